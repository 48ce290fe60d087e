import Redis
import RedisGate
import Sales
import Segment
import Synchronization
import TestSupport
import Testing

/// What the backend contract suite asks of a rate table, asked of Redis's, and the segment's
/// verdicts for the same requests.
@Suite struct RedisRateTableTests {
    static let key: UInt64 = 0xADD2_E550_0000_0001

    static func table(_ name: String, pool: RedisPool? = nil) throws -> RedisRateTable {
        RedisRateTable(
            pool: try pool ?? openPool(RedisServer.shared().url), name: name, maxPerSecond: AddressRates.maxPerSecond)
    }

    @Test func oneSecondsWorthAtOnceThenLimitedUntilTheRetryAfter() throws {
        let rates = try Self.table(freshName("burst"))
        let now = fakeNowMs
        for _ in 0..<10 { #expect(rates.admit(Self.key, nowMs: now, perSecond: 10, maxBlockMs: 5_000) == .allowed) }
        var retryAfterMs: Int64 = 0
        for _ in 0..<5 {
            guard case .limited(let retry) = rates.admit(Self.key, nowMs: now, perSecond: 10, maxBlockMs: 5_000) else {
                Issue.record("a request over the rate was not limited")
                return
            }
            #expect(retry > 0)
            retryAfterMs = retry
        }
        // Another key is counted on its own.
        #expect(rates.admit(Self.key &+ 1, nowMs: now, perSecond: 10, maxBlockMs: 5_000) == .allowed)
        // One who waits as told is let in.
        #expect(rates.admit(Self.key, nowMs: now + retryAfterMs, perSecond: 10, maxBlockMs: 5_000) == .allowed)
    }

    @Test func aKeySendingAtItsRateThroughTwoHostsIsNeverLimited() throws {
        let name = freshName("steady")
        let url = try RedisServer.shared().url
        let hosts = [try Self.table(name, pool: openPool(url)), try Self.table(name, pool: openPool(url))]
        for request in 0..<50 {
            let verdict = hosts[request % 2].admit(
                Self.key, nowMs: fakeNowMs + Int64(request) * 100, perSecond: 10, maxBlockMs: 5_000)
            #expect(verdict == .allowed, "request \(request)")
        }
    }

    @Test func aRateHoldsWhoeverSendsAtOnce() throws {
        let name = freshName("crowd")
        let url = try RedisServer.shared().url
        let hosts = [try Self.table(name, pool: openPool(url)), try Self.table(name, pool: openPool(url))]
        let threads = 8
        let outcomes = Mutex<[String: Int]>([:])
        let finished = onThreads(threads) { thread in
            var tally: [String: Int] = [:]
            for _ in 0..<500 {
                let verdict = hosts[thread % hosts.count].admit(
                    Self.key, nowMs: fakeNowMs, perSecond: 1_000, maxBlockMs: 5_000)
                tally[verdict.name, default: 0] += 1
            }
            outcomes.withLock { $0.merge(tally, uniquingKeysWith: +) }
        }
        #expect(finished)
        #expect(outcomes.withLock { $0 } == ["allowed": 1_000, "limited": 500 * threads - 1_000])
    }

    /// A key that keeps asking while refused blocks itself for longer, up to the longest block.
    @Test func theBlockGrowsWhileAKeyKeepsSending() throws {
        let rates = try Self.table(freshName("hammer"))
        var retries: [Int64] = []
        for _ in 0..<200 {
            if case .limited(let retry) = rates.admit(Self.key, nowMs: fakeNowMs, perSecond: 2, maxBlockMs: 30_000) {
                retries.append(retry)
            }
        }
        #expect(retries.count == 198)
        #expect(retries.first == 1_000)
        #expect(zip(retries, retries.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(retries.last == 30_000)
        #expect(rates.admit(Self.key, nowMs: fakeNowMs + 29_000, perSecond: 2, maxBlockMs: 30_000) != .allowed)
        #expect(rates.admit(Self.key, nowMs: fakeNowMs + 30_600, perSecond: 2, maxBlockMs: 30_000) == .allowed)
    }

    /// The same requests, at the same times, get the same verdicts from Redis as from the
    /// segment: bursts shorter and longer than the rate, waits shorter than, as long as and
    /// longer than told, longest blocks from none to seconds.
    @Test(arguments: [1, 2, 7, 10, 1_000])
    func everyVerdictIsTheSegments(perSecond: Int) throws {
        let segment = try FreshSegment()
        defer { segment.dir.remove() }
        let rates = try Self.table(freshName("same-\(perSecond)"))
        var random = SplitMix64(seed: UInt64(perSecond))
        let intervalMs = Int64(1_000 / perSecond)
        var now = fakeNowMs
        var retryAfterMs: Int64 = 0
        var verdicts: [String: Int] = [:]
        for burst in 0..<16 {
            let maxBlockMs: Int64 = [0, 1_000, 5_000][Int(random.next() % 3)]
            for request in 0..<Int(1 + random.next() % UInt64(2 * perSecond + 1)) {
                let expected = segment.segment.addressRates.admit(
                    Self.key, nowMs: now, perSecond: perSecond, maxBlockMs: maxBlockMs)
                let verdict = rates.admit(Self.key, nowMs: now, perSecond: perSecond, maxBlockMs: maxBlockMs)
                #expect(verdict == expected, "burst \(burst), request \(request), at +\(now - fakeNowMs) ms")
                verdicts[verdict.name, default: 0] += 1
                if case .limited(let retry) = verdict { retryAfterMs = retry }
            }
            let gaps = [0, 1, intervalMs / 2, intervalMs, retryAfterMs - 1, retryAfterMs, 3 * intervalMs, 7_000]
            now += gaps[Int(random.next() % UInt64(gaps.count))]
        }
        #expect(verdicts.keys.sorted() == ["allowed", "limited"])
    }

    /// Redis drops a key some time after its TAT passes, never before.
    @Test func theRedisKeyExpiresAfterTheBlock() throws {
        let name = freshName("expiry")
        let rates = try Self.table(name)
        for _ in 0..<3 { _ = rates.admit(Self.key, nowMs: fakeNowMs, perSecond: 1, maxBlockMs: 10_000) }
        let redis = try RedisConnection(url: RedisServer.shared().url)
        let expiresInMs = try #require(try redis.command(["PTTL", redisKey(Self.key, in: name)]).integer)
        #expect(expiresInMs > 2_000 && expiresInMs <= 70_000)
    }
}

/// A small seeded generator, so that a failing sequence is the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}

extension RateVerdict {
    /// A short name, for tallies.
    var name: String {
        switch self {
        case .allowed: "allowed"
        case .limited(let retryAfterMs): retryAfterMs > 0 ? "limited" : "limited at once"
        case .tableFull: "tableFull"
        case .unavailable: "unavailable"
        }
    }
}
