import Basics
import PostgresStore
import RedisGate
import Sales
import Segment
import Store

/// The store a data directory's backend settings name, as one type: its SQLite database, or
/// the PostgreSQL server of its sale's hosts. What the commands' desk (``HostDesk``) holds.
public final class AnySaleStore: SaleStore {
    private let base: any GroupCommitStore

    /// The database's random id, which the stock segment records.
    public var databaseID: UInt64 { base.databaseID }

    /// Opens the store `data`'s settings name (``BackendSettings``).
    public init(opening data: DataDirectory, synchronous: Durability = .full) throws {
        switch StoreAddress(try data.backendSettings()) {
        case .embedded: base = try SQLiteSaleStore(path: data.database, synchronous: synchronous)
        case .postgres(let url): base = try PostgresSaleStore(url: url, synchronous: synchronous)
        }
    }

    public func create(_ new: NewSale, nowMs: Int64) throws(StoreError) -> Sale { try base.create(new, nowMs: nowMs) }
    public func replace(_ new: NewSale, nowMs: Int64) throws(StoreError) -> Sale { try base.replace(new, nowMs: nowMs) }
    public func sale(_ id: String) throws(StoreError) -> Sale? { try base.sale(id) }
    public func sales() throws(StoreError) -> [Sale] { try base.sales() }
    public func questions(ofSale id: String) throws(StoreError) -> [SaleQuestion] { try base.questions(ofSale: id) }
    public func orders(ofSale id: String) throws(StoreError) -> [Order] { try base.orders(ofSale: id) }
    public func hasOrder(sale id: String, user: String) throws(StoreError) -> Bool {
        try base.hasOrder(sale: id, user: user)
    }
    public func order(sale id: String, user: String) throws(StoreError) -> Order? {
        try base.order(sale: id, user: user)
    }
    public func placeOrders(_ entries: [OrderEntry]) throws(StoreError) -> [OrderOutcome] {
        try base.placeOrders(entries)
    }
}

/// A data directory's desk whatever its store: the store its settings name and its stock
/// segment. What the commands (`sale`, `orders`, `status`, `reconcile`, `export`) open.
public typealias HostDesk = SaleDesk<AnySaleStore, StockSegment>

extension SaleDesk where Store == AnySaleStore, Gate == StockSegment {
    /// Opens the store `data`'s settings name and the segment beside it, and reconciles every
    /// sale whose slot does not hold its terms.
    public convenience init(data: DataDirectory, nowMs: Int64) throws {
        let store = try AnySaleStore(opening: data)
        try self.init(store: store, gate: StockSegment(path: data.segment, databaseID: store.databaseID), nowMs: nowMs)
    }
}

extension StoreAddress {
    /// The store `settings` name: PostgreSQL when they give its URL, else the embedded one.
    public init(_ settings: BackendSettings) {
        self = settings.store.map { .postgres(url: $0) } ?? .embedded
    }

    /// Throws why the store's server cannot be used now, if it cannot (libpq's message); its
    /// schema is created or brought up to date.
    public func checkReachable() throws {
        if case .postgres(let url) = self { _ = try PostgresSaleStore(url: url) }
    }
}

extension GateAddress {
    /// The gate `settings` name: Redis's tables when they give its URL, else the segment's.
    public init(_ settings: BackendSettings) {
        self = settings.gate.map { .redis(url: $0) } ?? .embedded
    }

    /// Throws why the gate's server cannot be reached now, if it cannot (Redis's message).
    public func checkReachable() throws {
        if case .redis(let url) = self { try RedisPool(url: url).check() }
    }
}
