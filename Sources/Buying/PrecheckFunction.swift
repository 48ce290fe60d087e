import FastCGI
import Sales

/// `GET /api/precheck?sale=ID` → `{"ok":true}` or `{"ok":false,"reason":…}` with reason
/// `not_started`, `ended`, `sold_out`, `busy` or `unknown_sale`; 503 `busy` while the sale's
/// stock is being rebuilt (a gate re-initialised or faulted). Answered from the gate alone: the
/// page asks before it offers the buy button, and the crowd asks often.
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
                    let reason = try verdict(saleID: sale, context: context)
                    return Response.json(bytes: body(reason: reason))
                }
            ])
    }

    /// Why a buyer would be refused now, or nil when the sale is open with room. A sale whose
    /// stock the gate does not hold is `unknown_sale` only when the store does not know it
    /// either (asked through the cache of sales, which reads the store at most once a second on
    /// a miss); a known one's stock is being rebuilt: 503 `busy`.
    static func verdict(saleID: String, context: BuyingContext) throws -> String? {
        try context.inSession { session in
            let now = context.clock()
            guard let stock = try session.stock(saleID: saleID, nowMs: now), let terms = stock.terms() else {
                guard try session.sale(id: saleID, nowMs: now) == nil else { throw Refusal.gateRebuilding }
                return "unknown_sale"
            }
            return try verdict(
                of: stock, terms, sale: saleID, nowMs: now, faulted: session.hasFaulted, context: context)
        }
    }

    /// The verdict of `stock`, read as holding `terms` of sale `sale`: `busy` while the
    /// admission window the token function would count in is full. A refusal is answered only
    /// while the stock still holds those terms and the gate's memory has not faulted (`faulted`
    /// asks): stock cleared since (another process re-initialised the gate and has not
    /// reconciled it yet) reads empty, a faulted mapping reads zeros, and neither says the sale
    /// is sold out: 503 `busy`.
    static func verdict(
        of stock: any SaleStock, _ terms: StockTerms, sale: String, nowMs now: Int64,
        faulted: @autoclosure () -> Bool, context: BuyingContext
    ) throws(Refusal) -> String? {
        // An empty stock without the flag: a take in flight, the flag not yet set.
        let refusal = SaleChecks.refusal(stock, terms, nowMs: now)?.reason ?? (stock.remaining <= 0 ? .soldOut : nil)
        guard let refusal else {
            let window = context.windows.window(sale: sale, nowMs: now)
            let full = SaleChecks.isWindowFull(stock, window: window, multiple: context.settings.admissionMultiple)
            return full ? Refusal.Reason.busy.rawValue : nil
        }
        guard !faulted(), stock.terms() == terms else { throw .gateRebuilding }
        return refusal.rawValue
    }

    /// The answer's bytes. Hand-made, as the crowd polls this: `reason` is one of a few fixed
    /// snake_case words, so the object is valid JSON by construction (the tests decode it).
    static func body(reason: String?) -> [UInt8] {
        guard let reason else { return Array(#"{"ok":true}"#.utf8) }
        return Array(#"{"ok":false,"reason":"\#(reason)"}"#.utf8)
    }
}
