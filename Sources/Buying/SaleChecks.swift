import Sales

/// The decisions the gate answers alone, from a sale's stock and terms: where the sale stands
/// and whether its admission window has room. Shared by precheck and sale-flag (which answer
/// them) and by the steps that refuse.
enum SaleChecks {
    /// Why a sale cannot be bought at `nowMs` according to its stock, or nil while it is open.
    static func refusal(_ stock: any SaleStock, _ terms: StockTerms, nowMs: Int64) -> Refusal? {
        if nowMs < terms.startMs { return .notStarted }
        if nowMs >= terms.endMs { return .ended }
        if stock.isSoldOut { return whenEmpty(stock, terms) }
        return nil
    }

    /// The refusal of stock that reads sold out or empty: `sold_out` only while it holds the
    /// sale's `terms`. Otherwise it was cleared under the process (another process rebuilt the
    /// gate and has not reconciled it from the store yet) or this process's mapping faulted
    /// into zeros: it says nothing about the stock, so 503 `busy`. One checksum read, and only
    /// on the way to a refusal.
    static func whenEmpty(_ stock: any SaleStock, _ terms: StockTerms) -> Refusal {
        stock.terms() == terms ? .soldOut : .gateRebuilding
    }

    /// How many buyers one window admits: the multiple of the units left (saturating, so that a
    /// garbage `remaining` in a damaged gate cannot wrap to a negative limit).
    static func admissionLimit(_ stock: any SaleStock, multiple: Int64) -> Int64 {
        let (limit, overflow) = max(0, stock.remaining).multipliedReportingOverflow(by: multiple)
        return overflow ? .max : limit
    }

    /// Whether the admission window `window` (``AdmissionWindows``) is full.
    static func isWindowFull(_ stock: any SaleStock, window: Int64, multiple: Int64) -> Bool {
        stock.admissions(inWindow: gateWindow(window)) >= admissionLimit(stock, multiple: multiple)
    }

    /// An admission window as the gate and the order token keep it: its low 32 bits.
    static func gateWindow(_ window: Int64) -> UInt32 {
        UInt32(truncatingIfNeeded: window)
    }
}
