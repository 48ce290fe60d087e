/// The store: the durable truth about sales and orders. A unit is sold only by the store's
/// conditional take, which never goes below zero, and each user orders at most once per sale.
///
/// The embedded store is SQLite in WAL mode. A backend keeps every promise the backend
/// contract suite (Tests/BackendContractTests) states.
public protocol SaleStore: AnyObject {
    /// Creates a sale with a fresh random order secret; refuses bad values and a duplicate id.
    func create(_ new: NewSale, nowMs: Int64) throws(StoreError) -> Sale
    /// Starts sale `new.id` over with new values, no orders and a new secret (the demo only).
    func replace(_ new: NewSale, nowMs: Int64) throws(StoreError) -> Sale
    /// The sale with `id`, or nil.
    func sale(_ id: String) throws(StoreError) -> Sale?
    /// Every sale, by start time.
    func sales() throws(StoreError) -> [Sale]
    /// The questions of sale `id`'s question captcha, in the order they were given.
    func questions(ofSale id: String) throws(StoreError) -> [SaleQuestion]
    /// The orders of a sale, oldest first.
    func orders(ofSale id: String) throws(StoreError) -> [Order]
    /// Whether `user` has an order in sale `id`.
    func hasOrder(sale id: String, user: String) throws(StoreError) -> Bool
    /// The order of `user` in sale `id`, or nil.
    func order(sale id: String, user: String) throws(StoreError) -> Order?
    /// Places a group of won orders in one transaction and one sync, an outcome per entry in
    /// the group's order: each sale's units are taken once for the whole group, never below
    /// zero; the entries past the units left are `.soldOut`, a user's second entry (in the
    /// group or after an earlier order) `.alreadyOrdered`. An entry whose ticket placed an order
    /// before (the same group committed again) is `.placed` with that order, taking nothing
    /// more. An empty group changes nothing.
    /// A failed sync throws `.syncFailed`, its `orderKept` true when any of the group's orders
    /// could not be withdrawn (the caller reconciles rather than give units back).
    func placeOrders(_ entries: [OrderEntry]) throws(StoreError) -> [OrderOutcome]
}

extension SaleStore {
    /// One order placed on its own: a group of one (``placeOrders(_:)``), durable when it
    /// returns. `.soldOut`, `.alreadyOrdered` and `.unknownSale` change nothing.
    public func placeOrder(sale id: String, user: String, nowMs: Int64) throws(StoreError) -> Order {
        switch try placeOrders([OrderEntry(sale: id, user: user, nowMs: nowMs)]).first {
        case .placed(let order): order
        case .alreadyOrdered: throw .alreadyOrdered
        case .soldOut: throw .soldOut
        case .unknownSale: throw .unknownSale(id)
        case nil: throw .invalid("a group of one order came back with no outcome")
        }
    }
}
