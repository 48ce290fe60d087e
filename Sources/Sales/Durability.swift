/// How an order reaches the disk before it is acknowledged (`FLASHSALE_SYNCHRONOUS`).
public enum Durability: String, Sendable {
    /// Every commit is on disk before the call that made it returns: an acknowledged order
    /// survives a power cut.
    case full = "FULL"
    /// A commit survives any process crash, but the last ones may be lost on power loss.
    case normal = "NORMAL"
}

/// Bounds every gate keeps.
public enum GateLimits {
    /// The longest lease of an account's one active request: a process killed holding it locks
    /// the account out no longer than this.
    public static let longestAccountLeaseMs: Int64 = 60_000
    /// The most won orders a gate's commit queue holds waiting at once.
    public static let largestCommitQueue = 1024
}
