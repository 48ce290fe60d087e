import Basics

extension StockSegment {
    /// A stable 64-bit key for a sale id (FNV-1a 64 of its UTF-8 bytes), stored in the slot to
    /// detect a slot holding another sale.
    public static func saleKey(_ saleID: String) -> UInt64 {
        fnv1a64(saleID.utf8)
    }
}
