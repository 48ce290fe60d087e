import Sales

extension StockSegment: SaleGate {
    /// The slot the store assigned to `sale` at its creation.
    public func stock(of sale: Sale) -> any SaleStock { slot(at: sale.slot) }
    public var accounts: any LeaseTable { accountLeases }
    public var spent: any LeaseTable { spentChallenges }
    public var rates: any RateTable { addressRates }
}

extension SaleSlot: SaleStock {}
extension AccountLeases: LeaseTable {
    public var tickMs: Int64 { Self.tickMs }
}
extension AddressRates: RateTable {
    public var maxPerSecond: Int { Self.maxPerSecond }
}
