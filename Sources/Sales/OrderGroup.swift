/// One won order waiting to be committed with others: the buyer took a unit from the gate and
/// waits for the store to make the order durable.
public struct OrderEntry: Sendable, Equatable {
    public var sale: String
    public var user: String
    public var nowMs: Int64
    /// A number the order's row keeps: committing the same entry again (a leader that died
    /// after COMMIT, a group redone) finds the order it placed instead of an earlier one.
    public var ticket: Int64?

    public init(sale: String, user: String, nowMs: Int64, ticket: Int64? = nil) {
        self.sale = sale
        self.user = user
        self.nowMs = nowMs
        self.ticket = ticket
    }
}

/// What the store decided for one entry of a group.
public enum OrderOutcome: Sendable, Equatable {
    /// Durable: the buyer's 201.
    case placed(Order)
    /// The user ordered in this sale before (not by this entry's ticket), or an earlier entry of
    /// the same group did.
    case alreadyOrdered
    /// The sale had no unit left for this entry once the entries before it had theirs.
    case soldOut
    /// No sale has the entry's id.
    case unknownSale
}

/// The points of a group commit where a process may die: a leader killed at any of them leaves
/// no acknowledged order lost and none committed twice. A fault drill (`FLASHSALE_PAUSE_AT`)
/// holds the committing process at one of them.
public enum CommitPoint: String, CaseIterable, Sendable {
    /// The group is claimed; no transaction has begun.
    case beforeTransaction = "before-transaction"
    /// The group's orders are inserted and its units taken; COMMIT has not run.
    case inTransaction = "in-transaction"
    /// COMMIT returned; the log is not yet synced.
    case afterCommit = "after-commit"
    /// The log is synced; the entries are not yet marked for their buyers.
    case afterSync = "after-sync"
}
