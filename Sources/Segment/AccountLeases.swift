import Atomics
import Sales

/// One active request per account, across every process: a token or order request takes its
/// account's lease first and gives it back when it answers, and a second request of the same
/// account while the first runs is refused at once. A lease also ends by itself, so a process
/// that dies holding one cannot lock its account out for longer than the lease.
///
/// A word is `fingerprint << 24 | deadline`: 40 bits of the account's mixed hash (never zero) and
/// the deadline in 16 ms ticks modulo 2^24 (about 74 hours), read against the clock with
/// modular arithmetic. Each table has a longest lease, far shorter than half that cycle, so a
/// live deadline is always at most that far ahead of now; a word nobody gave back or cleared
/// looks live again when the clock comes round, for that long at most.
public struct AccountLeases: Sendable {
    let table: SharedTable
    /// The longest lease this table holds, and so the longest a word left 74 hours ago can
    /// look live again.
    public let maxLeaseMs: Int64

    init(table: SharedTable, maxLeaseMs: Int64) {
        precondition(
            0 < maxLeaseMs && maxLeaseMs / Self.tickMs < Int64(1 << (Self.deadlineBits - 1)),
            "the longest lease is under half the deadline cycle")
        self.table = table
        self.maxLeaseMs = maxLeaseMs
    }

    /// Deadlines are kept in ticks of this many milliseconds: a lease of n ms ends between
    /// n − 15 and n + 15 ms after it was taken.
    /// How many words of a shared table one key may use (every table's neighbourhood): as many
    /// other keys starting at the same word fill it.
    public static let wordsPerKey = SharedTable.probeLength

    public static let tickMs: Int64 = 16
    static let deadlineBits: UInt64 = 24
    static let deadlineMask: UInt64 = (1 << deadlineBits) - 1

    /// Takes `key`'s lease (a hash of the account) for `leaseMs`, unless a live one exists. A
    /// word taken by another key between the look and the claim is looked for again, a few times.
    public func acquire(_ key: UInt64, nowMs: Int64, leaseMs: Int64) -> LeaseOutcome {
        precondition(leaseMs > 0 && leaseMs <= maxLeaseMs, "a lease lasts 1 ms to \(maxLeaseMs) ms")
        for _ in 0..<3 {
            if let outcome = attempt(key, nowMs: nowMs, leaseMs: leaseMs) { return outcome }
        }
        return .contended
    }

    /// Whether a live lease of `key` is held at `nowMs`: one look, nothing written.
    public func isHeld(_ key: UInt64, nowMs: Int64) -> Bool {
        let fingerprint = Self.fingerprint(key)
        let now = Self.tick(nowMs)
        let home = table.home(of: key)
        return (0..<SharedTable.probeLength).contains { step in
            let seen = table.word(home + step).load(ordering: .acquiring)
            return seen >> Self.deadlineBits == fingerprint && isLive(seen, now: now)
        }
    }

    /// One look and claim; nil when the word chosen was taken meanwhile.
    private func attempt(_ key: UInt64, nowMs: Int64, leaseMs: Int64) -> LeaseOutcome? {
        let fingerprint = Self.fingerprint(key)
        let now = Self.tick(nowMs)
        let home = table.home(of: key)
        var free: (index: Int, seen: UInt64)?
        for step in 0..<SharedTable.probeLength {
            let index = home + step
            let seen = table.word(index).load(ordering: .acquiring)
            if isLive(seen, now: now) {
                if seen >> Self.deadlineBits == fingerprint { return .busy }
            } else if free == nil {
                free = (index, seen)
            } else if seen != 0 {
                // An ended lease nobody gave back: cleared, so that it cannot look live again
                // when the deadline clock comes round.
                _ = table.word(index).compareExchange(expected: seen, desired: 0, ordering: .relaxed)
            }
        }
        guard let free else { return .tableFull }
        let ticks = UInt64((leaseMs + Self.tickMs - 1) / Self.tickMs)
        let word = fingerprint << Self.deadlineBits | ((now + ticks) & Self.deadlineMask)
        // Sequentially consistent, as the loads of the second look below: of two requests of one
        // account claiming at once, at least one sees the other.
        let (claimed, _) = table.word(free.index).compareExchange(
            expected: free.seen, desired: word, ordering: .sequentiallyConsistent)
        guard claimed else { return nil }  // another request took the word first: look again
        // Two requests of one account may have claimed two words at once: each then sees the
        // other's, and both stand down. Never two through; looking again tells a holder from
        // two that stood down, and a retry gets in.
        for step in 0..<SharedTable.probeLength where home + step != free.index {
            let seen = table.word(home + step).load(ordering: .sequentiallyConsistent)
            if seen >> Self.deadlineBits == fingerprint && isLive(seen, now: now) {
                release(Lease(slot: free.index, token: word))
                return nil
            }
        }
        return .acquired(Lease(slot: free.index, token: word))
    }

    /// Gives a lease back, unless it ran out and the word was reused.
    public func release(_ lease: Lease) {
        _ = table.word(lease.slot).compareExchange(expected: lease.token, desired: 0, ordering: .releasing)
    }

    /// Whether `word` is a lease whose deadline has not passed at tick `now`, and is no further
    /// ahead than this table's longest lease.
    func isLive(_ word: UInt64, now: UInt64) -> Bool {
        guard word != 0 else { return false }
        let ahead = ((word & Self.deadlineMask) &- now) & Self.deadlineMask
        return ahead > 0 && ahead <= UInt64(maxLeaseMs / Self.tickMs) + 1
    }

    static func tick(_ nowMs: Int64) -> UInt64 {
        UInt64(max(0, nowMs) / tickMs) & deadlineMask
    }

    /// The top 40 bits of the mixed key, never zero.
    static func fingerprint(_ key: UInt64) -> UInt64 {
        (SharedTable.mixed(key) >> deadlineBits) | 1
    }
}
