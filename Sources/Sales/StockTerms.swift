import Basics

/// What the gate mirrors of a sale from the store: its key, stock and times. A gate that holds
/// other terms for the sale (or none) says nothing about its stock.
public struct StockTerms: Equatable, Sendable {
    public var saleKey: UInt64
    public var stock: Int64
    public var startMs: Int64
    /// The end, or `Int64.max` for a sale without one.
    public var endMs: Int64

    public init(saleKey: UInt64, stock: Int64, startMs: Int64, endMs: Int64) {
        self.saleKey = saleKey
        self.stock = stock
        self.startMs = startMs
        self.endMs = endMs
    }

    /// A stable 64-bit key for a sale id (FNV-1a 64 of its UTF-8 bytes), the same in every process.
    public static func saleKey(_ saleID: String) -> UInt64 {
        fnv1a64(saleID.utf8)
    }
}

extension Sale {
    /// What the gate must hold for this sale.
    public var stockTerms: StockTerms {
        StockTerms(saleKey: StockTerms.saleKey(id), stock: stock, startMs: startsAt, endMs: endsAt ?? .max)
    }
}
