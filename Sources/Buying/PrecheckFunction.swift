import FastCGI
import Segment

/// `GET /api/precheck?sale=ID` → `{"ok":true}` or `{"ok":false,"reason":…}` with reason
/// `not_started`, `ended`, `sold_out`, `busy` or `unknown_sale`; 503 `busy` while the sale's
/// slot is being rebuilt (a segment re-initialised or faulted). Answered from the stock
/// segment alone: the page asks before it offers the buy button, and the crowd asks often.
public enum PrecheckFunction {
    /// The precheck function, answering from the process's `context`.
    public static func function(_ context: BuyingContext) -> Function {
        Function(
            name: "precheck",
            routes: [
                Route("/api/precheck", methods: [.get]) { request in
                    guard let sale = request.query["sale"], !sale.isEmpty else {
                        throw HTTPError(.badRequest, "name the sale: /api/precheck?sale=ID")
                    }
                    let reason = try context.serially { try verdict(saleID: sale, context: context) }
                    return Response.json(bytes: body(reason: reason))
                }
            ])
    }

    /// Why a buyer would be refused now, or nil when the sale is open with room. A sale whose
    /// slot the segment does not hold is `unknown_sale` only when SQLite does not know it either
    /// (asked through the cache of sales, which reads the database at most once a second on a
    /// miss); a known one's slot is being rebuilt: 503 `busy`.
    static func verdict(saleID: String, context: BuyingContext) throws -> String? {
        let now = context.clock()
        guard let slot = try context.segmentSlot(saleID: saleID, nowMs: now), let configuration = slot.configuration()
        else {
            guard try context.sale(id: saleID, nowMs: now) == nil else { throw BuyingContext.segmentFaulted }
            return "unknown_sale"
        }
        return try verdict(of: slot, configuration, sale: saleID, nowMs: now, context: context)
    }

    /// The verdict of `slot`, read as holding `configuration` of sale `sale`: `busy` while the
    /// admission window the token function would count in is full. A refusal is answered only while
    /// the slot still holds that configuration and this process's mapping has not faulted: a slot
    /// cleared since (another process re-initialised the segment and has not reconciled it yet)
    /// reads empty, a faulted mapping reads zeros, and neither says the sale is sold out: 503 `busy`.
    static func verdict(
        of slot: SaleSlot, _ configuration: SaleSlot.Configuration, sale: String, nowMs now: Int64,
        context: BuyingContext
    ) throws(HTTPError) -> String? {
        // An empty slot without the flag: a take in flight, the flag not yet set.
        let refusal = SaleGate.refusal(slot, configuration, nowMs: now)?.code ?? (slot.remaining <= 0 ? .soldOut : nil)
        guard let refusal else {
            let window = context.windows.window(sale: sale, nowMs: now)
            return SaleGate.isBusy(slot, window: window, settings: context.settings) ? ErrorCode.busy.rawValue : nil
        }
        guard !context.segment.hasFaulted, slot.configuration() == configuration else {
            throw BuyingContext.segmentFaulted
        }
        return refusal.rawValue
    }

    /// The answer's bytes. Hand-made, as the crowd polls this: `reason` is one of a few fixed
    /// snake_case words, so the object is valid JSON by construction (the tests decode it).
    static func body(reason: String?) -> [UInt8] {
        guard let reason else { return Array(#"{"ok":true}"#.utf8) }
        return Array(#"{"ok":false,"reason":"\#(reason)"}"#.utf8)
    }
}
