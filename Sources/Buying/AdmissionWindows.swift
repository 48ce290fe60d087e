import Challenges
import Synchronization

/// A sale's admission windows: window k begins at k·L plus a jitter below a quarter of L, where
/// L is the token lifetime and the jitter an HMAC of the sale and k under a key derived from the
/// data directory's secret. Every process, on every host with the secret, computes the same
/// boundaries without state; nobody without it can tell when the next window opens, so a script
/// cannot sleep until a known instant and be first in it. Each boundary is computed once per
/// process (an HMAC is about a microsecond; a token request needs three and a precheck one).
public final class AdmissionWindows: Sendable {
    /// The mean length of a window: the token lifetime.
    public let lengthMs: Int64
    private let keys: TableKeys
    /// Per sale, the boundaries computed lately: a request needs the current window's and the
    /// next two. Emptied when a sale holds more than a few, or more sales than a few hundred.
    private let known = Mutex<[String: [Int64: Int64]]>([:])

    public init(secret: [UInt8], lengthMs: Int64) {
        precondition(lengthMs > 0, "a window lasts at least 1 ms")
        self.lengthMs = lengthMs
        keys = TableKeys(secret: secret, purpose: "admission window jitter")
    }

    /// How far a boundary may move from k·L: a quarter of a window, so a window lasts at least
    /// three quarters of L and at most one and a quarter.
    public var jitterSpanMs: Int64 { max(1, lengthMs / 4) }

    /// When window `window` of `sale` begins.
    public func start(of window: Int64, sale: String) -> Int64 {
        if let start = known.withLock({ $0[sale]?[window] }) { return start }
        let start = window * lengthMs + Int64(keys.key("window", sale, String(window)) % UInt64(jitterSpanMs))
        known.withLock { known in
            if known.count >= 256 { known.removeAll() }
            if known[sale]?.count ?? 0 >= 8 { known[sale] = nil }
            known[sale, default: [:]][window] = start
        }
        return start
    }

    /// The window of `sale` that holds `nowMs` (since the epoch): k when the k-th boundary has
    /// passed, else k − 1, with k = ⌊nowMs / L⌋.
    public func window(sale: String, nowMs: Int64) -> Int64 {
        let near = nowMs / lengthMs
        return nowMs < start(of: near, sale: sale) ? near - 1 : near
    }

    /// A `Retry-After` for a buyer who may ask again at `untilMs`: the seconds until then, plus
    /// a random part of the jitter span, so buyers told to wait come back spread over the
    /// window's first quarter and the answer does not give the boundary away to the second.
    func retryAfterSeconds(untilMs: Int64, nowMs: Int64) -> Int64 {
        let spread = Int64.random(in: 0..<jitterSpanMs)
        return max(1, (untilMs - nowMs + spread + 999) / 1000)
    }
}
