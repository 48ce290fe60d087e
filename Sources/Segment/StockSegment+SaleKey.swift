extension StockSegment {
    /// A stable 64-bit key for a sale id (FNV-1a 64 of its UTF-8 bytes), stored in the slot to
    /// detect a slot holding another sale.
    public static func saleKey(_ saleID: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in saleID.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return hash
    }
}
