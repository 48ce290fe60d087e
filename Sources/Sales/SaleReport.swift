import Basics
import Foundation

/// A sale as `flashsale sale show` and `sale list` print it.
public struct SaleReport: Codable, Sendable, Equatable {
    public var id: String
    public var title: String
    public var price: Int64
    public var state: SaleState
    public var stock: Int64
    public var remaining: Int64
    public var sold: Int64
    /// The inventory row's version: one more for every change to its remaining stock.
    public var version: Int64
    public var startsAt: String
    public var endsAt: String?
    /// Requests per second per client address; 0 is no limit.
    public var perIPRate: Int64
    /// The account level a buyer needs; 0 lets anyone buy.
    public var minLevel: Int64
    /// The challenge before a token.
    public var captcha: CaptchaMode
    /// Leading zero bits of the proof of work asked at token issue; 0 asks none.
    public var powBits: Int64
    /// The segment's view: its remaining stock and sold-out flag, nil when its slot is not
    /// (yet) configured for this sale.
    public var segment: SegmentFigures?
    /// The slot's counters (attempts, admissions, orders and rejections by reason).
    public var counters: [String: Int64]

    /// The counters' names, in the slot's order.
    public static let counterNames = SaleCounter.allCases.map { "\($0)" }

    public struct SegmentFigures: Codable, Sendable, Equatable {
        public var remaining: Int64
        public var soldOut: Bool
        public var lastReconciledAt: String
    }

    init(sale: Sale, stock slot: any SaleStock, nowMs: Int64) {
        id = sale.id
        title = sale.title
        price = sale.price
        state = sale.state(at: nowMs)
        stock = sale.stock
        remaining = sale.remaining
        sold = sale.sold
        version = sale.version
        startsAt = iso8601(sale.startsAt)
        endsAt = sale.endsAt.map(iso8601)
        perIPRate = sale.perIPRate
        minLevel = sale.minLevel
        captcha = sale.captcha
        powBits = sale.powBits
        let configured = slot.terms() == sale.stockTerms
        segment =
            configured
            ? SegmentFigures(
                remaining: slot.remaining, soldOut: slot.isSoldOut, lastReconciledAt: iso8601(slot.lastReconciledMs))
            : nil
        counters =
            configured ? Dictionary(uniqueKeysWithValues: SaleCounter.allCases.map { ("\($0)", slot.count($0)) }) : [:]
    }
}
