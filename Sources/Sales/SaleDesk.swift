import Segment
import Store

/// The operator's side of sales: creating them, reporting where they stand, and reconciling
/// the stock segment from SQLite. SQLite is the truth; the segment only ever copies it.
public final class SaleDesk {
    public let store: SaleStore
    public let segment: StockSegment

    /// Opens the database and the segment, and reconciles every sale whose slot does not hold
    /// its configuration: a segment rebuilt, a slot torn, a create interrupted before its slot
    /// was written. An unconfigured slot has no stock, so it would refuse every buyer.
    public init(
        databasePath: String, segmentPath: String, nowMs: Int64, synchronous: SaleStore.Synchronous = .full
    ) throws {
        store = try SaleStore(path: databasePath, synchronous: synchronous)
        segment = try StockSegment(path: segmentPath, databaseID: store.databaseID)
        for sale in try store.sales() where segment.slot(at: sale.slot).configuration() != Self.configuration(of: sale)
        {
            reconcile(sale, nowMs: nowMs)
        }
    }

    /// Creates a sale and its slot in the segment.
    public func create(_ new: NewSale, nowMs: Int64) throws(StoreError) -> Sale {
        let sale = try store.create(new, nowMs: nowMs)
        reconcile(sale, nowMs: nowMs)
        return sale
    }

    /// Starts an existing sale over with new values and no orders, in the same slot (see
    /// ``SaleStore/replace(_:nowMs:)``): the demo's sale, each time the demo starts.
    public func replace(_ new: NewSale, nowMs: Int64) throws(StoreError) -> Sale {
        let sale = try store.replace(new, nowMs: nowMs)
        reconcile(sale, nowMs: nowMs)
        return sale
    }

    /// Sets the sale's slot from SQLite: its configuration, and remaining stock to what the
    /// database says, which returns any unit taken by a process that died before ordering.
    @discardableResult
    public func reconcile(_ id: String, nowMs: Int64) throws(StoreError) -> Reconciliation {
        guard let sale = try store.sale(id) else { throw .unknownSale(id) }
        return reconcile(sale, nowMs: nowMs)
    }

    /// Reconciles every sale that has not ended: what a function does when it starts, so that a
    /// unit held by the process it replaces (killed mid-order) comes back at once.
    public func reconcileUnended(nowMs: Int64) throws(StoreError) {
        for sale in try store.sales() where sale.state(at: nowMs) != .ended {
            reconcile(sale, nowMs: nowMs)
        }
    }

    /// Where a sale stands: the database's figures, the segment's and its counters.
    public func report(_ id: String, nowMs: Int64) throws(StoreError) -> SaleReport {
        guard let sale = try store.sale(id) else { throw .unknownSale(id) }
        return SaleReport(sale: sale, slot: segment.slot(at: sale.slot), nowMs: nowMs)
    }

    /// Every sale's report, by start time.
    public func reports(nowMs: Int64) throws(StoreError) -> [SaleReport] {
        try store.sales().map { SaleReport(sale: $0, slot: segment.slot(at: $0.slot), nowMs: nowMs) }
    }

    @discardableResult
    private func reconcile(_ sale: Sale, nowMs: Int64) -> Reconciliation {
        let slot = segment.slot(at: sale.slot)
        let configuration = Self.configuration(of: sale)
        let before = slot.configuration() == configuration ? slot.remaining : nil
        if before == nil {
            slot.configure(configuration, remaining: sale.remaining, nowMs: nowMs)
        } else {
            slot.reconcile(remaining: sale.remaining, nowMs: nowMs)
        }
        return Reconciliation(sale: sale.id, segmentBefore: before, remaining: sale.remaining)
    }
}

extension SaleDesk {
    /// What a sale's slot must hold: its key, stock and times (no end is the far future).
    public static func configuration(of sale: Sale) -> SaleSlot.Configuration {
        SaleSlot.Configuration(
            saleKey: StockSegment.saleKey(sale.id), stock: sale.stock, startMs: sale.startsAt,
            endMs: sale.endsAt ?? .max)
    }
}

/// What reconciling a sale changed.
public struct Reconciliation: Codable, Sendable, Equatable {
    public var sale: String
    /// The segment's remaining stock before, or nil when the slot had to be rebuilt.
    public var segmentBefore: Int64?
    /// The remaining stock in SQLite, now also the segment's.
    public var remaining: Int64

    public init(sale: String, segmentBefore: Int64?, remaining: Int64) {
        self.sale = sale
        self.segmentBefore = segmentBefore
        self.remaining = remaining
    }
}
