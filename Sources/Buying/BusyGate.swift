import Synchronization

/// The order function's per-node limit, in line: the fallback for a listening socket that the
/// door (`ListenQueue.Door`, which refuses beyond the same limit beside the serving thread, so
/// a refusal waits for no order in hand) cannot watch. A node's order concurrency is its number
/// of order processes; what arrives beyond that waits in each process's accept queue. When more than
/// `queueLimit` requests wait behind the one in hand, it is refused with 503 `busy` at once —
/// before any signature check or database work — so the queue drains fast and the wait stays
/// bounded instead of growing with the crowd. After `maxRefusalsInARow` refusals one request
/// is served regardless: a crowd that retries at once would otherwise keep the queue long and
/// starve every order. Measured with 512 connections on 4 processes, it trades orders per
/// second for a shorter wait (BENCHMARKS.md); lighttpd's own `listen-backlog` was measured
/// too and rejected: on 1.4.69 a full backlog answers 500, floods the error log and garbles
/// requests.
final class BusyGate: Sendable {
    let queueLimit: Int
    let maxRefusalsInARow: Int
    private let refusedInARow = Mutex(0)

    init(queueLimit: Int, maxRefusalsInARow: Int) {
        self.queueLimit = queueLimit
        self.maxRefusalsInARow = maxRefusalsInARow
    }

    /// Whether to refuse the request in hand, given how many wait behind it (nil: unknown).
    func refuses(queuedBehind: Int?) -> Bool {
        refusedInARow.withLock { refusedInARow in
            guard let queuedBehind, queuedBehind > queueLimit, refusedInARow < maxRefusalsInARow else {
                refusedInARow = 0
                return false
            }
            refusedInARow += 1
            return true
        }
    }
}
