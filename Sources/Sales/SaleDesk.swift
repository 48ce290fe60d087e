/// The operator's side of sales over a backend: creating them, reporting where they stand, and
/// reconciling the gate from the store. The store is the truth; the gate only ever copies it.
public final class SaleDesk<Store: SaleStore, Gate: SaleGate> {
    public let store: Store
    public let gate: Gate

    /// Takes `store` and `gate`, and reconciles every sale whose stock in the gate does not hold
    /// its terms: a gate rebuilt, a slot torn, a create interrupted before its stock was set.
    /// Stock without its terms would refuse every buyer.
    public init(store: Store, gate: Gate, nowMs: Int64) throws(StoreError) {
        self.store = store
        self.gate = gate
        for sale in try store.sales() where gate.stock(of: sale).terms() != sale.stockTerms {
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
    /// ``SQLiteSaleStore/replace(_:nowMs:)``): the demo's sale, each time the demo starts.
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

    /// Where a sale stands: the store's figures, the gate's and its counters.
    public func report(_ id: String, nowMs: Int64) throws(StoreError) -> SaleReport {
        guard let sale = try store.sale(id) else { throw .unknownSale(id) }
        return SaleReport(sale: sale, stock: gate.stock(of: sale), nowMs: nowMs)
    }

    /// Every sale's report, by start time.
    public func reports(nowMs: Int64) throws(StoreError) -> [SaleReport] {
        try store.sales().map { SaleReport(sale: $0, stock: gate.stock(of: $0), nowMs: nowMs) }
    }

    /// Sets the gate's stock of `sale` from the store's figures `sale`: its terms and
    /// remaining stock, rebuilt when it held other terms.
    @discardableResult
    public func reconcile(_ sale: Sale, nowMs: Int64) -> Reconciliation {
        let stock = gate.stock(of: sale)
        let terms = sale.stockTerms
        let before = stock.terms() == terms ? stock.remaining : nil
        if before == nil {
            stock.configure(terms, remaining: sale.remaining, nowMs: nowMs)
        } else {
            stock.reconcile(remaining: sale.remaining, nowMs: nowMs)
        }
        return Reconciliation(sale: sale.id, segmentBefore: before, remaining: sale.remaining)
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
