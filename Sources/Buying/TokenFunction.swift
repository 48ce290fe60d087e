import Challenges
import FastCGI
import Foundation
import Identity
import Sales
import Segment
import Store

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
                    let answer = try context.serially { try issue(request, body: body, context: context) }
                    return try Response.json(answer)
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
        let id = body.sale
        let now = context.clock()
        guard let sale = try context.sale(id: id, nowMs: now) else {
            throw HTTPError(.notFound, "no sale has id \"\(id)\"")
        }
        let slot = try context.slot(for: sale, nowMs: now)
        do {
            if let refusal = SaleGate.refusal(slot, SaleDesk.configuration(of: sale), nowMs: now) { throw refusal }
            try AbuseChecks.limitRate(request, sale: sale, slot: slot, context: context)
            try checkWork(body.pow, sale: sale, context: context)
            let claims = try context.identity.claims(of: request)
            let user = claims.sub.value
            if sale.minLevel > 0 && Int64(claims.level ?? 0) < sale.minLevel {
                throw HTTPError(.forbidden, "this sale is for accounts of level \(sale.minLevel) or above")
            }
            return try AbuseChecks.oneAtATime(user, slot: slot, context: context) {
                // A buyer who ordered hears so before being asked for a captcha.
                if try context.store.hasOrder(sale: sale.id, user: user) { throw SaleGate.alreadyOrdered }
                // A pass is spent only by a token issued: a refusal below gives it back.
                let spent = try spendPass(body.pass, user: user, sale: sale, context: context)
                do {
                    let expiresAt = now + context.settings.tokenLifetimeMs
                    let admittedAt = context.clock()
                    let window = context.windows.window(sale: sale.id, nowMs: admittedAt)
                    let token = try context.orderTokens.sign(
                        OrderTokenClaims(
                            user: user, sale: sale.id, expires: Date(timeIntervalSince1970: Double(expiresAt) / 1000),
                            window: SaleGate.slotWindow(window)))
                    try admit(user, to: sale, slot: slot, window: window, nowMs: admittedAt, context: context)
                    return Answer(
                        token: token, expiresAt: expiresAt, orderUrl: OrderFunction.orderPath(secret: sale.secret))
                } catch {
                    if let spent { context.segment.spentChallenges.release(spent) }
                    throw error
                }
            }
        } catch let error as HTTPError {
            SaleGate.count(error, in: slot)
            throw error
        }
    }

    /// For a sale with a proof of work, checks and spends the solution, before anything costlier
    /// (a signature): missing is 403 `captcha_required`; a stale nonce, too few zero bits or a
    /// solution sent before is 403 `captcha_failed`. A spent solution is not given back.
    private static func checkWork(_ work: Work?, sale: Sale, context: BuyingContext) throws {
        guard sale.powBits > 0 else { return }
        guard let work else {
            throw HTTPError(
                .captchaRequired, "this sale asks for a proof of work: GET /api/captcha/pow?sale=\(sale.id)")
        }
        guard (1...32).contains(work.counter.utf8.count), work.counter.allSatisfy({ $0.isASCII && $0.isNumber }),
            context.work.isCurrent(work.nonce, sale: sale.id, startMs: sale.startsAt, nowMs: context.clock())
        else {
            throw HTTPError(.captchaFailed, "the proof of work is for an old nonce; ask for a new one")
        }
        guard ProofOfWork.solves(nonce: work.nonce, counter: work.counter, bits: Int(sale.powBits)) else {
            throw HTTPError(.captchaFailed, "the proof of work does not start with \(sale.powBits) zero bits")
        }
        let key = context.tableKeys.key("spent", "pow", work.nonce, work.counter)
        switch context.segment.spentChallenges.acquire(key, nowMs: context.clock(), leaseMs: ProofOfWork.windowMs * 2) {
        case .acquired: return
        case .tableFull: throw CaptchaTokens.tableFull
        case .contended: throw HTTPError.contended
        case .busy: throw HTTPError(.captchaFailed, "this proof of work was used already")
        }
    }

    /// For a sale with a captcha, spends the buyer's pass: missing is 403 `captcha_required`;
    /// forged, expired, another user's or sale's, or used already is 403 `captcha_failed`.
    private static func spendPass(
        _ pass: String?, user: String, sale: Sale, context: BuyingContext
    ) throws -> AccountLeases.Lease? {
        guard sale.captcha != .off else { return nil }
        guard let pass, !pass.isEmpty else {
            throw HTTPError(
                .captchaRequired, "this sale asks for a captcha first: GET /api/captcha?sale=\(sale.id), then verify")
        }
        let claims = try CaptchaTokens.claims(pass, kind: .pass, context: context)
        try CaptchaTokens.check(claims, isFor: user)
        guard claims.sale == sale.id else { throw HTTPError(.captchaFailed, "the captcha pass is for another sale") }
        return try CaptchaTokens.spend(claims, context: context)
    }

    /// Counts the buyer into admission window `window` once, across every process (the
    /// ledger); refuses with `busy` when the window has handed out its share of the units left,
    /// and while the account rests after an admission in the previous window that it did not
    /// order with. Both wait until the current window ends, with a jittered `Retry-After`. A
    /// ledger that could not tell answers `busy` for a second, and no token.
    private static func admit(
        _ user: String, to sale: Sale, slot: SaleSlot, window: Int64, nowMs now: Int64, context: BuyingContext
    ) throws {
        let settings = context.settings
        let windowEnd = { context.windows.start(of: window + 1, sale: sale.id) }
        let entry = try context.admissions.admit(user, sale: sale.id, window: window, nowMs: now) {
            let limit = SaleGate.admissionLimit(slot, settings: settings)
            // Nothing left but the sold-out flag not yet set (a take in flight): sold out, not busy;
            // unless the slot no longer holds the sale (cleared by a re-initialisation): 503 `busy`.
            guard limit > 0 else { throw SaleGate.whenEmpty(slot, SaleDesk.configuration(of: sale)) }
            guard slot.admit(window: SaleGate.slotWindow(window), limit: limit) else {
                let seconds = context.windows.retryAfterSeconds(untilMs: windowEnd(), nowMs: now)
                throw HTTPError(
                    .busy, "too many buyers for the stock left; retry in \(seconds) s",
                    headers: [.retryAfter: String(seconds)])
            }
            slot.increment(.admissions)
        }
        switch entry {
        case .admitted, .again:
            return
        case .unguarded:
            slot.increment(.unguardedTableFull)
        case .contended:
            throw HTTPError.contended
        case .resting:
            let seconds = context.windows.retryAfterSeconds(untilMs: windowEnd(), nowMs: now)
            throw HTTPError(
                .busy,
                "this account was let in during the last admission window and did not order; it may ask again in \(seconds) s",
                headers: [.retryAfter: String(seconds)])
        }
    }
}
