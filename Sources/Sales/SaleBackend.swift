/// A backend as one process of the buying functions holds it: a store and a gate kept in step,
/// and what the process caches of them. Each request uses it through ``inSession(_:)``.
public protocol SaleBackend: AnyObject, Sendable {
    /// Runs one request's reads and writes in a session no other request uses meanwhile
    /// (requests on several threads of a process each get one). Faults of the moment come out
    /// as `busy` refusals (``Refusal/storeBusy``, ``Refusal/ordersStopped``,
    /// ``Refusal/gateRebuilding``), and a gate whose memory failed is rebuilt first.
    func inSession<T: Sendable>(_ body: (any BackendSession) throws -> T) throws -> T
}

/// What one request sees of the backend, inside ``SaleBackend/inSession(_:)``.
public protocol BackendSession: AnyObject {
    var store: any SaleStore { get }
    var gate: any SaleGate { get }
    /// The sale with `id`, from the process's cache of sales (``SaleCatalog``).
    func sale(id: String, nowMs: Int64) throws -> Sale?
    /// The sale whose order secret is `secret`, from the same cache.
    func sale(secret: String, nowMs: Int64) throws -> Sale?
    /// The questions of `sale`'s question captcha, read from the store once per process.
    func questions(of sale: Sale) throws -> [SaleQuestion]
    /// The stock of `sale` for a request that may read the store: set from the store when the
    /// gate does not hold its terms, and reconciled by one process per reconcile interval, which
    /// returns units held by processes that died.
    func stock(of sale: Sale, nowMs: Int64) throws -> any SaleStock
    /// The stock of sale `id` from the gate alone, without reading the store: nil when the gate
    /// holds no such sale (one brought into the gate since the process last looked may read nil
    /// for up to a second). Reconciled as above.
    func stock(saleID: String, nowMs: Int64) throws -> (any SaleStock)?
    /// Makes `entry`'s order durable and answers it: committed in one group with the orders of
    /// every process waiting at the same time, or alone. The refusals (`.soldOut`,
    /// `.alreadyOrdered`) and failures are the store's; a failure whose `orderKept` is true may
    /// have left the order committed.
    func placeOrder(_ entry: OrderEntry) throws(StoreError) -> Order
    /// Gives back the unit of an order that failed after its take: after the store answered sold
    /// out, by reconciling (it has none to give); otherwise by giving the unit back.
    func returnUnit(of sale: Sale, stock: any SaleStock, soldOutInStore: Bool, nowMs: Int64)
    /// Whether the gate's memory failed during this request: figures read since may be zeros.
    var hasFaulted: Bool { get }
}
