import FastCGI
import Sales

/// One request for one sale, as a buying step decides it: the sale, its stock in the gate, the
/// moment of the decision and the backend session it runs in. Built once per request, inside
/// ``BuyingContext/inSession(_:)``. A refusal is counted in the sale's counters where it is
/// decided, by ``refuse(_:)``.
struct SaleRequest {
    let request: Request
    let sale: Sale
    let stock: any SaleStock
    let nowMs: Int64
    let session: any BackendSession
    let context: BuyingContext
    /// Whether refusals count in the sale's counters: the buying steps' do (token, order and
    /// a captcha answer); asking for a challenge is no attempt to buy, and counts nothing.
    let counts: Bool

    /// The request for `sale` at `nowMs`, with its stock as the backend keeps it current.
    init(
        _ request: Request, sale: Sale, at nowMs: Int64, session: any BackendSession, context: BuyingContext,
        counts: Bool = true
    ) throws {
        self.request = request
        self.sale = sale
        self.nowMs = nowMs
        self.session = session
        self.context = context
        self.counts = counts
        stock = try session.stock(of: sale, nowMs: nowMs)
    }

    /// Counts `refusal` in the counters it names, and returns it to throw.
    func refuse(_ refusal: Refusal) -> Refusal {
        if counts {
            for counter in refusal.counters { stock.increment(counter) }
        }
        return refusal
    }

    /// Refuses, counted, unless the sale is open now (``SaleChecks/refusal(_:_:nowMs:)``).
    func checkState() throws(Refusal) {
        if let refusal = SaleChecks.refusal(stock, sale.stockTerms, nowMs: nowMs) { throw refuse(refusal) }
    }

    /// The refusal, counted, of stock that reads empty (``SaleChecks/whenEmpty(_:_:)``).
    func refuseEmpty() -> Refusal {
        refuse(SaleChecks.whenEmpty(stock, sale.stockTerms))
    }

    /// Runs `body`, counting the refusal it throws: a check that decides but does not count
    /// (``CaptchaTokens``).
    func counted<T>(_ body: () throws(Refusal) -> T) throws(Refusal) -> T {
        do {
            return try body()
        } catch {
            throw refuse(error)
        }
    }

    /// Runs `body`, counting what it refuses in `counter`: the caller's identity or body that
    /// the runtime refuses before the sale's own checks.
    func counting<T>(_ counter: SaleCounter, _ body: () throws(HTTPError) -> T) throws(HTTPError) -> T {
        do {
            return try body()
        } catch {
            if counts { stock.increment(counter) }
            throw error
        }
    }
}
