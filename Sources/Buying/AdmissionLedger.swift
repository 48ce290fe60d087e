import Challenges
import Sales

/// Who has been admitted to a sale's window, wherever the token function runs: an account is
/// admitted once per window, and an account admitted and not ordered sits out the next
/// window. Kept in the gate's table of single-use leases, so it holds across every process
/// (and, with a shared gate, every host): one lease per account and window, ("admitted",
/// sale, user, window), taken at the admission and held to the end of the next window. In its
/// own window it says the account was admitted already; in the next it is the rest. Each
/// window looks only at its own key and the previous window's, never at when a lease ends, so
/// the ticks the table counts in cannot move a rest's end off the boundary. One look and one
/// lease claim per request, the claim given back when the sale's count refuses.
struct AdmissionLedger {
    let leases: any LeaseTable
    let keys: TableKeys
    let windows: AdmissionWindows

    /// What the ledger decided.
    enum Entry: Sendable, Equatable {
        /// Admitted, counted, and resting through the next window unless it orders.
        case admitted
        /// Admitted in this window already: a fresh token, not counted again.
        case again
        /// Admitted in the previous window and not ordered: refused until this window ends.
        case resting
        /// Counted, but the ledger had no room to remember it: the sale's count still bounds the window.
        case unguarded
        /// The ledger could not tell, as other accounts' claims kept taking the places it chose:
        /// nothing counted, nothing remembered; a retry a moment later gets an answer.
        case contended
    }

    /// Admits `user` to window `window` of `sale` at `nowMs`, calling `count` (the sale's own
    /// count of the window) for an admission that counts; if `count` throws, nothing is
    /// remembered and the error is rethrown.
    func admit(_ user: String, sale: String, window: Int64, nowMs: Int64, count: () throws -> Void) throws -> Entry {
        if leases.isHeld(key(user, sale: sale, window: window - 1), nowMs: nowMs) { return .resting }
        let restEnd = windows.start(of: window + 2, sale: sale)
        switch leases.acquire(key(user, sale: sale, window: window), nowMs: nowMs, leaseMs: lease(restEnd, nowMs)) {
        case .busy: return .again
        case .contended: return .contended
        case .unavailable: throw Refusal.gateUnreachable
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
        min(max(1, endMs - nowMs + leases.tickMs), leases.maxLeaseMs)
    }
}
