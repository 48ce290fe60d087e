import Challenges
import FastCGI
import Foundation
import Identity
import Sales

/// `POST /api/token` with `{"sale":"ID"}` → `{"token":…,"expiresAt":ms,"orderUrl":"/api/order/<secret>"}`:
/// a short-lived order token bound to the caller and the sale, and the sale's order URL, which
/// no answer holds before the sale opens. Refused with `not_started`, `ended`, `sold_out`,
/// `already_ordered`, and `busy` once the admission window has handed out its share or while
/// the account rests after an admission it did not order with.
public enum TokenFunction {
    struct Body: Decodable {
        var sale: String
        /// The captcha pass, for a sale that asks for one.
        var pass: String?
        /// The proof of work, for a sale that asks for one.
        var pow: Work?
    }

    struct Work: Decodable {
        var nonce: String
        var counter: String
    }

    /// What a buyer gets.
    public struct Answer: Codable, Sendable, Equatable {
        public var token: String
        public var expiresAt: Int64
        public var orderUrl: String
    }

    /// The token function, issuing with the process's `context`.
    public static func function(_ context: BuyingContext) -> Function {
        Function(
            name: "token",
            routes: [
                Route("/api/token", methods: [.post]) { request in
                    let body = try request.decodeJSON(Body.self, example: #"{"sale":"ID","pass":"(if asked)"}"#)
                    return try Response.json(try issue(request, body: body, context: context))
                }
            ])
    }

    /// Checks the sale's state before the identity: a refusal by state is public (precheck
    /// tells anyone), and answering it first spares the crowd of a sold-out sale a signature
    /// check. Then the client address's rate, the identity, and the rest under the account's
    /// lease (one active request per account). The token is signed before the admission is
    /// counted, so a failure to sign spends none; a buyer who asks again within the window gets
    /// a fresh token without counting twice, in whichever process.
    static func issue(_ request: Request, body: Body, context: BuyingContext) throws -> Answer {
        try context.inSession { session in
            let now = context.clock()
            guard let sale = try session.sale(id: body.sale, nowMs: now) else {
                throw Refusal(.notFound, "no sale has id \"\(body.sale)\"")
            }
            let attempt = try SaleRequest(request, sale: sale, at: now, session: session, context: context)
            try attempt.checkState()
            try attempt.limitRate()
            try checkWork(body.pow, attempt)
            let claims = try attempt.counting(.rejectedUnauthorized) { () throws(HTTPError) in
                try context.identity.claims(of: request)
            }
            let user = claims.sub.value
            if sale.minLevel > 0 && Int64(claims.level ?? 0) < sale.minLevel {
                throw attempt.refuse(
                    Refusal(.forbidden, "this sale is for accounts of level \(sale.minLevel) or above"))
            }
            return try attempt.oneAtATime(user) {
                // A buyer who ordered hears so before being asked for a captcha.
                if try session.store.hasOrder(sale: sale.id, user: user) { throw attempt.refuse(.alreadyOrdered) }
                // A pass is spent only by a token issued: a refusal below gives it back.
                let spent = try spendPass(body.pass, user: user, attempt)
                do {
                    let expiresAt = now + context.settings.tokenLifetimeMs
                    let admittedAt = context.clock()
                    let window = context.windows.window(sale: sale.id, nowMs: admittedAt)
                    let token = try context.orderTokens.sign(
                        OrderTokenClaims(
                            user: user, sale: sale.id, expires: Date(timeIntervalSince1970: Double(expiresAt) / 1000),
                            window: SaleChecks.gateWindow(window)))
                    try admit(user, window: window, nowMs: admittedAt, attempt)
                    return Answer(
                        token: token, expiresAt: expiresAt, orderUrl: OrderFunction.orderPath(secret: sale.secret))
                } catch {
                    if let spent { session.gate.spent.release(spent) }
                    throw error
                }
            }
        }
    }

    /// For a sale with a proof of work, checks and spends the solution, before anything costlier
    /// (a signature): missing is 403 `captcha_required`; a stale nonce, too few zero bits or a
    /// solution sent before is 403 `captcha_failed`. A spent solution is not given back.
    private static func checkWork(_ work: Work?, _ attempt: SaleRequest) throws(Refusal) {
        let sale = attempt.sale
        let context = attempt.context
        guard sale.powBits > 0 else { return }
        guard let work else {
            throw attempt.refuse(
                Refusal(.captchaRequired, "this sale asks for a proof of work: GET /api/captcha/pow?sale=\(sale.id)"))
        }
        guard (1...32).contains(work.counter.utf8.count), work.counter.allSatisfy({ $0.isASCII && $0.isNumber }),
            context.work.isCurrent(work.nonce, sale: sale.id, startMs: sale.startsAt, nowMs: context.clock())
        else {
            throw attempt.refuse(Refusal(.captchaFailed, "the proof of work is for an old nonce; ask for a new one"))
        }
        guard ProofOfWork.solves(nonce: work.nonce, counter: work.counter, bits: Int(sale.powBits)) else {
            throw attempt.refuse(
                Refusal(.captchaFailed, "the proof of work does not start with \(sale.powBits) zero bits"))
        }
        let key = context.tableKeys.key("spent", "pow", work.nonce, work.counter)
        let spent = attempt.session.gate.spent
        switch spent.acquire(key, nowMs: context.clock(), leaseMs: ProofOfWork.windowMs * 2) {
        case .acquired: return
        case .tableFull: throw attempt.refuse(CaptchaTokens.tableFull)
        case .contended: throw attempt.refuse(.contended)
        case .unavailable: throw attempt.refuse(.gateUnreachable)
        case .busy: throw attempt.refuse(Refusal(.captchaFailed, "this proof of work was used already"))
        }
    }

    /// For a sale with a captcha, spends the buyer's pass: missing is 403 `captcha_required`;
    /// forged, expired, another user's or sale's, or used already is 403 `captcha_failed`.
    private static func spendPass(_ pass: String?, user: String, _ attempt: SaleRequest) throws(Refusal) -> Lease? {
        let sale = attempt.sale
        guard sale.captcha != .off else { return nil }
        guard let pass, !pass.isEmpty else {
            throw attempt.refuse(
                Refusal(
                    .captchaRequired,
                    "this sale asks for a captcha first: GET /api/captcha?sale=\(sale.id), then verify"))
        }
        return try attempt.counted { () throws(Refusal) in
            let claims = try CaptchaTokens.claims(pass, kind: .pass, signer: attempt.context.orderTokens)
            try CaptchaTokens.check(claims, isFor: user)
            guard claims.sale == sale.id else { throw Refusal(.captchaFailed, "the captcha pass is for another sale") }
            return try CaptchaTokens.spend(claims, attempt)
        }
    }

    /// Counts the buyer into admission window `window` once, across every process (the
    /// ledger); refuses with `busy` when the window has handed out its share of the units left,
    /// and while the account rests after an admission in the previous window that it did not
    /// order with. Both wait until the current window ends, with a jittered `Retry-After`. A
    /// ledger that could not tell answers `busy` for a second, and no token.
    private static func admit(_ user: String, window: Int64, nowMs now: Int64, _ attempt: SaleRequest) throws {
        let context = attempt.context
        let sale = attempt.sale
        let stock = attempt.stock
        let retryAfter = {
            context.windows.retryAfterSeconds(untilMs: context.windows.start(of: window + 1, sale: sale.id), nowMs: now)
        }
        let ledger = AdmissionLedger(
            leases: attempt.session.gate.spent, keys: context.tableKeys, windows: context.windows)
        let entry = try ledger.admit(user, sale: sale.id, window: window, nowMs: now) {
            let limit = SaleChecks.admissionLimit(stock, multiple: context.settings.admissionMultiple)
            // Nothing left but the sold-out flag not yet set (a take in flight): sold out, not busy;
            // unless the stock no longer holds the sale (cleared by a rebuild): 503 `busy`.
            guard limit > 0 else { throw attempt.refuseEmpty() }
            guard stock.admit(window: SaleChecks.gateWindow(window), limit: limit) else {
                let seconds = retryAfter()
                throw attempt.refuse(
                    Refusal(
                        .busy, "too many buyers for the stock left; retry in \(seconds) s", retryAfterSeconds: seconds))
            }
            stock.increment(.admissions)
        }
        switch entry {
        case .admitted, .again:
            return
        case .unguarded:
            stock.increment(.unguardedTableFull)
        case .contended:
            throw attempt.refuse(.contended)
        case .resting:
            let seconds = retryAfter()
            throw attempt.refuse(
                Refusal(
                    .busy,
                    "this account was let in during the last admission window and did not order; it may ask again in \(seconds) s",
                    retryAfterSeconds: seconds))
        }
    }
}
