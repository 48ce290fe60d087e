/// Why the store refused or failed: the refusals a caller answers, or the SQLite failure.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(String)
    case duplicateSale(String)
    case unknownSale(String)
    case soldOut
    case alreadyOrdered
    case database(SQLiteError)
    /// The write-ahead log failed to sync, in this call or an earlier one: the store takes no
    /// more orders in this process (see `SaleStore.placeOrder`). `orderKept` is true when this
    /// call's order was committed and could not be withdrawn: it stays, with its unit.
    case syncFailed(SQLiteError, orderKept: Bool)

    public var description: String {
        switch self {
        case .invalid(let message): message
        case .duplicateSale(let id): "a sale with id \"\(id)\" already exists"
        case .unknownSale(let id): "no sale has id \"\(id)\""
        case .soldOut: "the sale is sold out"
        case .alreadyOrdered: "this user already ordered in this sale"
        case .database(let error): "\(error)"
        case .syncFailed(let error, let orderKept):
            "orders are stopped until an operator checks the disk and restarts serve: the write-ahead log failed to "
                + "sync (\(error))" + (orderKept ? "; this order was committed and stays" : "")
        }
    }

    /// True when the store stopped taking orders after a failed sync (`.syncFailed`).
    public var stopsOrders: Bool {
        if case .syncFailed = self { return true }
        return false
    }

    /// True when the call left a committed order that the caller's gate must keep counting:
    /// a failed sync whose order could not be withdrawn.
    public var orderKept: Bool {
        if case .syncFailed(_, orderKept: true) = self { return true }
        return false
    }
}
