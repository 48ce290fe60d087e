/// Why the store refused or failed: the refusals a caller answers, or the backend's failure.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(String)
    case duplicateSale(String)
    case unknownSale(String)
    case soldOut
    case alreadyOrdered
    case database(any StoreFault)
    /// The write-ahead log failed to sync, in this call or an earlier one: the store takes no
    /// more orders in this process (see ``SaleStore/placeOrders(_:)``). `orderKept` is true
    /// when one of this call's orders was committed and could not be withdrawn: it stays, with
    /// its unit.
    case syncFailed(any StoreFault, orderKept: Bool)

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

    /// True when the call may have left a committed order that the caller's gate must keep
    /// counting: a failed sync whose order could not be withdrawn, an order given up on after a
    /// leader claimed it. The gate's reconciliation settles it from the store.
    public var orderKept: Bool {
        switch self {
        case .syncFailed(_, orderKept: true): true
        case .database(let fault): fault.mayHaveCommitted
        default: false
        }
    }
}

extension StoreError {
    /// True when the store failed for a reason of the moment and changed nothing (see
    /// ``StoreFault/isTransient``): busy, a full disk, a failed write. The caller answers such a
    /// failure like a busy database, 503 `busy` with `Retry-After`. Not `.syncFailed`, which
    /// does not pass.
    public var isTransient: Bool {
        if case .database(let error) = self { return error.isTransient }
        return false
    }

    /// Two errors are the same when they are the same case with the same values; failures of
    /// the backend, by what they say.
    public static func == (left: StoreError, right: StoreError) -> Bool {
        switch (left, right) {
        case (.invalid(let a), .invalid(let b)), (.duplicateSale(let a), .duplicateSale(let b)),
            (.unknownSale(let a), .unknownSale(let b)):
            a == b
        case (.soldOut, .soldOut), (.alreadyOrdered, .alreadyOrdered): true
        case (.database(let a), .database(let b)): a.description == b.description
        case (.syncFailed(let a, let kept), .syncFailed(let b, let otherKept)):
            a.description == b.description && kept == otherKept
        default: false
        }
    }
}

/// A failure of a store's backend (SQLite's result codes, a server's error), with its facts.
public protocol StoreFault: Error, Sendable, CustomStringConvertible {
    /// Another connection holds the lock past the busy timeout.
    var isBusy: Bool { get }
    /// The call failed for a reason of the moment and changed nothing: worth retrying.
    var isTransient: Bool { get }
    /// The order may be committed all the same (given up on while another process committed it).
    var mayHaveCommitted: Bool { get }
}

extension StoreFault {
    public var mayHaveCommitted: Bool { false }
}
