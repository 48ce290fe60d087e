import Atomics
import Sales

/// A rate limit per client address (and sale), shared by every process: the generic cell rate
/// algorithm, which is a token bucket kept as one time. Each address has a theoretical arrival
/// time (TAT); a request is allowed while the TAT is at most `burst - 1` intervals ahead of
/// now, and each allowed request moves it one interval on. A refused request moves it on too,
/// up to `maxBlockMs` ahead: an address that keeps hammering blocks itself for longer, while
/// one that waits for its `Retry-After` is never refused twice.
///
/// A word is `fingerprint << 40 | tat`: 24 bits of the key's mixed hash (never zero) and the TAT in
/// microseconds modulo 2^40 (about 12.7 days, far more than any block), compared with signed
/// modular differences. A word
/// whose TAT has passed holds nothing and may be taken by any address.
public struct AddressRates: Sendable {
    let table: SharedTable

    static let timeBits: UInt64 = 40
    static let timeMask: UInt64 = (1 << timeBits) - 1

    /// The highest rate counted, in requests a second: each has its own interval in microseconds.
    public static let maxPerSecond = 1000

    /// Counts one request of `key` against `perSecond` (1 to ``maxPerSecond``) with bursts of `perSecond`.
    public func admit(_ key: UInt64, nowMs: Int64, perSecond: Int, maxBlockMs: Int64) -> RateVerdict {
        precondition((1...Self.maxPerSecond).contains(perSecond), "a rate is 1 to 1000 requests a second")
        // Microseconds, so that every rate up to 1000 a second has its own interval.
        let interval = Int64(1_000_000 / perSecond)
        let tolerance = interval * Int64(perSecond - 1)
        let fingerprint = (SharedTable.mixed(key) >> Self.timeBits) | 1
        let now = UInt64(max(0, nowMs) &* 1000) & Self.timeMask
        let home = table.home(of: key)
        // A free word taken by another address between the look and the claim: look again.
        for _ in 0..<3 {
            var chosen: Int?
            var firstFree: Int?
            for step in 0..<SharedTable.probeLength {
                let seen = table.word(home + step).load(ordering: .relaxed)
                if seen != 0 && seen >> Self.timeBits == fingerprint {
                    chosen = home + step
                    break
                }
                if firstFree == nil && Self.ahead(seen, of: now) <= 0 { firstFree = home + step }
            }
            guard let index = chosen ?? firstFree else { return .tableFull }
            if let verdict = count(
                at: index, fingerprint: fingerprint, now: now, interval: interval,
                tolerance: tolerance, maxBlock: maxBlockMs * 1000)
            {
                return verdict
            }
        }
        return .tableFull
    }

    /// Moves the TAT of the word at `index` on; nil when another address took the word.
    private func count(
        at index: Int, fingerprint: UInt64, now: UInt64, interval: Int64, tolerance: Int64, maxBlock: Int64
    ) -> RateVerdict? {
        let word = table.word(index)
        var seen = word.load(ordering: .relaxed)
        while true {
            let ours = seen != 0 && seen >> Self.timeBits == fingerprint
            guard ours || Self.ahead(seen, of: now) <= 0 else { return nil }
            let tat = ours ? max(Self.ahead(seen, of: now), 0) : 0  // µs ahead of now
            let allowed = tat <= tolerance
            let next = allowed ? tat + interval : min(tat + interval, tolerance + maxBlock)
            let desired = fingerprint << Self.timeBits | ((now &+ UInt64(next)) & Self.timeMask)
            // Relaxed: the word guards nothing but itself.
            let (stored, actual) = word.weakCompareExchange(expected: seen, desired: desired, ordering: .relaxed)
            if stored { return allowed ? .allowed : .limited(retryAfterMs: max(1, (next - tolerance + 999) / 1000)) }
            seen = actual
        }
    }

    /// How far the TAT in `word` is ahead of `now`, in microseconds (negative once passed).
    static func ahead(_ word: UInt64, of now: UInt64) -> Int64 {
        guard word != 0 else { return -1 }
        let difference = ((word & timeMask) &- now) & timeMask
        // A 40-bit two's-complement difference.
        return difference >= 1 << (timeBits - 1) ? Int64(difference) - Int64(1 << timeBits) : Int64(difference)
    }
}
