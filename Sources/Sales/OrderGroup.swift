/// One won order waiting to be committed with others: the buyer took a unit from the gate and
/// waits for the store to make the order durable.
public struct OrderEntry: Sendable, Equatable {
    public var sale: String
    public var user: String
    public var nowMs: Int64

    public init(sale: String, user: String, nowMs: Int64) {
        self.sale = sale
        self.user = user
        self.nowMs = nowMs
    }
}

/// What the store decided for one entry of a group.
public enum OrderOutcome: Sendable, Equatable {
    /// Durable: the buyer's 201.
    case placed(Order)
    /// The user ordered in this sale before, or an earlier entry of the same group did.
    case alreadyOrdered
    /// The sale had no unit left for this entry once the entries before it had theirs.
    case soldOut
    /// No sale has the entry's id.
    case unknownSale
}
