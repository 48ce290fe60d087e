import Basics
import Sales
import Segment
import Store

/// The embedded backend's desk: SQLite in WAL mode as the store, the memory-mapped stock
/// segment as the gate.
public typealias EmbeddedDesk = SaleDesk<SQLiteSaleStore, StockSegment>

extension SaleDesk where Store == SQLiteSaleStore, Gate == StockSegment {
    /// Opens the database and the segment beside it, and reconciles every sale whose slot does
    /// not hold its terms.
    public convenience init(
        databasePath: String, segmentPath: String, nowMs: Int64, synchronous: Durability = .full
    ) throws {
        let store = try SQLiteSaleStore(path: databasePath, synchronous: synchronous)
        try self.init(store: store, gate: StockSegment(path: segmentPath, databaseID: store.databaseID), nowMs: nowMs)
    }

    /// Opens the data directory's database and segment.
    public convenience init(data: DataDirectory, nowMs: Int64, synchronous: Durability = .full) throws {
        try self.init(databasePath: data.database, segmentPath: data.segment, nowMs: nowMs, synchronous: synchronous)
    }
}

extension SaleDesk where Gate == StockSegment {
    /// The stock segment (the gate).
    public var segment: StockSegment { gate }
}
