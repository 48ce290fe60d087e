import Challenges
import Segment

/// Who has been admitted to a sale's window, wherever the token function runs: an account is
/// admitted once per window, and an account admitted and not ordered sits out the next
/// window. The one decision that must hold across processes and hosts, behind this seam: the
/// segment's lease table holds it on one host; a store shared by several (two `SET NX PX`
/// keys and a `DEL` in Redis) can take its place.
protocol AdmissionLedger {
    /// Admits `user` to window `window` of `sale` at `nowMs`, calling `count` (the sale's own
    /// count of the window) for an admission that counts; if `count` throws, nothing is
    /// remembered and the error is rethrown.
    func admit(_ user: String, sale: String, window: Int64, nowMs: Int64, count: () throws -> Void) throws
        -> AdmissionEntry
}

/// What the ledger decided.
enum AdmissionEntry: Sendable, Equatable {
    /// Admitted, counted, and resting through the next window unless it orders.
    case admitted
    /// Admitted in this window already: a fresh token, not counted again.
    case again
    /// Admitted in the previous window and not ordered: refused until this window ends.
    case resting
    /// Counted, but the ledger had no room to remember it: the sale's count still bounds the window.
    case unguarded
}

/// The ledger in the stock segment's table of spent challenges: a lease on the account's
/// admission to the window, until the window ends, and one on its rest, until the next window
/// ends (a tick more, as the table counts in 16 ms ticks: a rest ends up to two ticks late,
/// never early, so a looping script cannot slip in just before the boundary). Two
/// lease claims for a new admission, one for a repeat, and both given back when the sale's
/// count refuses.
struct SegmentAdmissionLedger: AdmissionLedger {
    let leases: AccountLeases
    let keys: TableKeys
    let windows: AdmissionWindows

    func admit(_ user: String, sale: String, window: Int64, nowMs: Int64, count: () throws -> Void) throws
        -> AdmissionEntry
    {
        let windowEnd = windows.start(of: window + 1, sale: sale)
        let admitted: AccountLeases.Lease
        switch leases.acquire(
            keys.key("admitted", sale, user, String(window)), nowMs: nowMs, leaseMs: lease(windowEnd, nowMs))
        {
        case .busy: return .again
        case .tableFull:
            try count()
            return .unguarded
        case .acquired(let lease): admitted = lease
        }
        let rest = windows.start(of: window + 2, sale: sale)
        let resting: AccountLeases.Lease?
        switch leases.acquire(keys.key("resting", sale, user), nowMs: nowMs, leaseMs: lease(rest, nowMs)) {
        case .busy:
            leases.release(admitted)
            return .resting
        case .tableFull: resting = nil
        case .acquired(let lease): resting = lease
        }
        do {
            try count()
        } catch {
            leases.release(admitted)
            if let resting { leases.release(resting) }
            throw error
        }
        return resting == nil ? .unguarded : .admitted
    }

    /// A lease from `nowMs` to at least `endMs`, within what the table holds.
    private func lease(_ endMs: Int64, _ nowMs: Int64) -> Int64 {
        min(max(1, endMs - nowMs + AccountLeases.tickMs), AccountLeases.maxLeaseMs)
    }
}
