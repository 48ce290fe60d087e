import PostgresStore
import Sales
import Store

/// A store under the stock segment, whose won orders the segment's commit queue commits in
/// groups: what the segment and the group committer need of it besides ``SaleStore``.
protocol GroupCommitStore: SaleStore {
    /// The database's random id, which the segment records: a segment made for another
    /// database is rebuilt from this one.
    var databaseID: UInt64 { get }
    /// What stopped orders in this process for good, if anything (SQLite's failed sync of its
    /// log): a process so stopped neither places orders nor leads a group.
    var ordersStoppedBy: (any StoreFault)? { get }
}

extension SQLiteSaleStore: GroupCommitStore {
    var ordersStoppedBy: (any StoreFault)? { syncFailure }
}

extension PostgresSaleStore: GroupCommitStore {
    /// Never: a commit PostgreSQL acknowledged is durable (`synchronous_commit`), and one whose
    /// answer was lost is settled by its ticket and by reconciliation.
    var ordersStoppedBy: (any StoreFault)? { nil }
}
