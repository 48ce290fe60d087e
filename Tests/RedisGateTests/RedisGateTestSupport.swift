import Foundation
import Redis
import RedisGate
import Sales

/// A time by a caller's clock, mid-2024: tests move it by hand, never by waiting.
let fakeNowMs: Int64 = 1_720_000_000_000

/// A pool for a test. The process first ignores SIGPIPE, as the functions do: hiredis writes
/// with write(2), and the fault tests write to servers they kill.
func openPool(_ url: String, commandTimeoutMs: Int = 1_000) -> RedisPool {
    _ = ignoringSIGPIPE
    return RedisPool(url: url, connectTimeoutMs: 1_000, commandTimeoutMs: commandTimeoutMs)
}

private let ignoringSIGPIPE: Void = {
    signal(SIGPIPE, SIG_IGN)
}()

/// A table name no other test uses, so that tests sharing a server never share keys.
func freshName(_ purpose: String) -> String {
    "gate-tests-\(purpose)-\(UUID().uuidString)"
}

/// The Redis key a table named `table` keeps `key` at.
func redisKey(_ key: UInt64, in table: String) -> String {
    let digits = String(key, radix: 16)
    return "{flashsale}:\(table):" + String(repeating: "0", count: 16 - digits.count) + digits
}

/// `body`'s answer and how long it took.
func timed<T>(_ body: () -> T) -> (T, Duration) {
    let started = ContinuousClock.now
    let answer = body()
    return (answer, ContinuousClock.now - started)
}

extension LeaseOutcome {
    /// The lease taken, or nil for any other outcome.
    var lease: Lease? {
        if case .acquired(let lease) = self { lease } else { nil }
    }

    /// A short name, for tallies.
    var name: String {
        switch self {
        case .acquired: "acquired"
        case .busy: "busy"
        case .contended: "contended"
        case .tableFull: "tableFull"
        case .unavailable: "unavailable"
        }
    }
}
