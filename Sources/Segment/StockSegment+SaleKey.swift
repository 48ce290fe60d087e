import Sales

extension StockSegment {
    /// A stable 64-bit key for a sale id, stored in the slot to detect a slot holding another
    /// sale (``StockTerms/saleKey(_:)``).
    public static func saleKey(_ saleID: String) -> UInt64 {
        StockTerms.saleKey(saleID)
    }
}
