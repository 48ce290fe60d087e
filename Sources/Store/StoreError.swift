/// Why the store refused or failed: the refusals a caller answers, or the SQLite failure.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(String)
    case duplicateSale(String)
    case unknownSale(String)
    case soldOut
    case alreadyOrdered
    case database(SQLiteError)

    public var description: String {
        switch self {
        case .invalid(let message): message
        case .duplicateSale(let id): "a sale with id \"\(id)\" already exists"
        case .unknownSale(let id): "no sale has id \"\(id)\""
        case .soldOut: "the sale is sold out"
        case .alreadyOrdered: "this user already ordered in this sale"
        case .database(let error): "\(error)"
        }
    }
}
