import Challenges
import Segment

/// Who has been admitted to a sale's window, wherever the token function runs: an account is
/// admitted once per window, and an account admitted and not ordered sits out the next
/// window. The one decision that must hold across processes and hosts, behind this seam: the
/// segment's lease table holds it on one host; a store shared by several (an `EXISTS` of the
/// previous window's key, a `SET NX PX` of this window's and a `DEL` when the count refuses,
/// in Redis) can take its place.
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
    /// The ledger could not tell, as other accounts' claims kept taking the words it chose:
    /// nothing counted, nothing remembered; a retry a moment later gets an answer.
    case contended
}

/// The ledger in the stock segment's table of spent challenges: one lease per account and
/// window, ("admitted", sale, user, window), taken at the admission and held to the end of
/// the next window. In its own window it says the account was admitted already; in the next
/// it is the rest. Each window looks only at its own key and the previous window's, never
/// at when a lease ends, so the 16 ms ticks the table counts in cannot move a rest's end off
/// the boundary. One look and one lease claim per request, the claim given back when the
/// sale's count refuses.
struct SegmentAdmissionLedger: AdmissionLedger {
    let leases: AccountLeases
    let keys: TableKeys
    let windows: AdmissionWindows

    func admit(_ user: String, sale: String, window: Int64, nowMs: Int64, count: () throws -> Void) throws
        -> AdmissionEntry
    {
        if leases.isHeld(key(user, sale: sale, window: window - 1), nowMs: nowMs) { return .resting }
        let restEnd = windows.start(of: window + 2, sale: sale)
        switch leases.acquire(key(user, sale: sale, window: window), nowMs: nowMs, leaseMs: lease(restEnd, nowMs)) {
        case .busy: return .again
        case .contended: return .contended
        case .tableFull:
            try count()
            return .unguarded
        case .acquired(let admitted):
            do {
                try count()
            } catch {
                leases.release(admitted)
                throw error
            }
            return .admitted
        }
    }

    private func key(_ user: String, sale: String, window: Int64) -> UInt64 {
        keys.key("admitted", sale, user, String(window))
    }

    /// A lease from `nowMs` to at least `endMs`, within what the table holds.
    private func lease(_ endMs: Int64, _ nowMs: Int64) -> Int64 {
        min(max(1, endMs - nowMs + AccountLeases.tickMs), leases.maxLeaseMs)
    }
}
