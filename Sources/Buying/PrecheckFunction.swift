import FastCGI

/// `GET /api/precheck?sale=ID` → `{"ok":true}` or `{"ok":false,"reason":…}` with reason
/// `not_started`, `ended`, `sold_out`, `busy` or `unknown_sale`. Answered from the stock
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

    /// Why a buyer would be refused now, or nil when the sale is open with room.
    static func verdict(saleID: String, context: BuyingContext) throws -> String? {
        let now = context.clock()
        guard let slot = try context.segmentSlot(saleID: saleID, nowMs: now), let configuration = slot.configuration()
        else { return "unknown_sale" }
        if let refusal = SaleGate.refusal(slot, configuration, nowMs: now) { return refusal.code.rawValue }
        if slot.remaining <= 0 { return ErrorCode.soldOut.rawValue }  // a take in flight, the flag not yet set
        return SaleGate.isBusy(slot, nowMs: now, settings: context.settings) ? ErrorCode.busy.rawValue : nil
    }

    /// The answer's bytes. Hand-made, as the crowd polls this: `reason` is one of a few fixed
    /// snake_case words, so the object is valid JSON by construction (the tests decode it).
    static func body(reason: String?) -> [UInt8] {
        guard let reason else { return Array(#"{"ok":true}"#.utf8) }
        return Array(#"{"ok":false,"reason":"\#(reason)"}"#.utf8)
    }
}
