import Basics
import Challenges
import FastCGI
import Foundation
import Identity
import Sales

/// `GET /api/captcha?sale=ID` → a challenge for the caller: `{"challenge","expiresAt"}` with
/// `"image"` (an SVG data URL of a code to read) or `"question"` (made up per challenge, now and
/// then one of the sale's own: see ``QuestionChallenge``).
/// `POST /api/captcha/verify` `{"challenge","answer"}` → `{"pass","expiresAt"}`, or 403
/// `captcha_failed`. Both are stateless tokens signed with the data directory's secret, bound
/// to the user and the sale, short-lived; a challenge is answered once, a pass spent once (by
/// the token function), both through the gate's table of single-use leases.
public enum CaptchaFunction {
    static let challengeLifetimeMs: Int64 = 60_000
    static let passLifetimeMs: Int64 = 30_000

    /// A challenge as the page receives it.
    public struct Challenge: Codable, Sendable, Equatable {
        public var challenge: String
        public var expiresAt: Int64
        /// An `image` captcha: the code to read, as a `data:image/svg+xml;base64,…` URL.
        public var image: String?
        /// A `question` captcha: the question to answer.
        public var question: String?
    }

    /// A proof-of-work task: find a counter whose SHA-256 of `<nonce>:<counter>` starts with
    /// `bits` zero bits, and send both with the token request before `expiresAt`.
    public struct Work: Codable, Sendable, Equatable {
        public var nonce: String
        public var bits: Int64
        public var expiresAt: Int64
    }

    /// What a right answer earns: a pass the token function accepts once.
    public struct Pass: Codable, Sendable, Equatable {
        public var pass: String
        public var expiresAt: Int64
    }

    struct Answer: Decodable {
        var challenge: String
        var answer: String
    }

    /// The captcha function, with the process's `context`.
    public static func function(_ context: BuyingContext) -> Function {
        Function(
            name: "captcha",
            routes: [
                Route("/api/captcha", methods: [.get]) { request in
                    try Response.json(try challenge(request, context: context))
                },
                Route("/api/captcha/verify", methods: [.post]) { request in
                    try Response.json(try verify(request, context: context))
                },
                Route("/api/captcha/pow", methods: [.get]) { request in
                    try Response.json(try work(request, context: context))
                },
            ])
    }

    static func challenge(_ request: Request, context: BuyingContext) throws -> Challenge {
        guard let id = request.query["sale"], !id.isEmpty else {
            throw HTTPError(.badRequest, "name the sale: /api/captcha?sale=ID")
        }
        let (sale, user, questions, now) = try context.inSession { session in
            let now = context.clock()
            guard let sale = try session.sale(id: id, nowMs: now) else {
                throw Refusal(.notFound, "no sale has id \"\(id)\"")
            }
            guard sale.captcha != .off else { throw Refusal(.notFound, "sale \"\(id)\" asks for no captcha") }
            let asking = try SaleRequest(
                request, sale: sale, at: now, session: session, context: context, counts: false)
            // No challenge before the start: a script must not collect passes while people wait.
            try asking.checkState()
            try asking.limitRate(scope: .captcha)
            let user = try context.identity.user(of: request)
            try asking.limitChallenges(of: user)
            return (sale, user, sale.captcha == .question ? try session.questions(of: sale) : [], now)
        }
        let challengeID = randomHex(bytes: 12)
        let answer: String
        var challenge = Challenge(challenge: "", expiresAt: now + challengeLifetimeMs)
        if sale.captcha == .question {
            let asked = QuestionChallenge.draw(own: questions.map { ($0.question, $0.answer) })
            answer = asked.answer
            challenge.question = asked.question
        } else {
            answer = CaptchaImage.code()
            challenge.image = "data:image/svg+xml;base64," + Data(CaptchaImage.svg(answer).utf8).base64EncodedString()
        }
        challenge.challenge = try context.orderTokens.sign(
            CaptchaClaims(
                kind: .challenge, user: user, sale: sale.id, id: challengeID, expires: date(challenge.expiresAt),
                digest: context.answers.digest(challenge: challengeID, answer: answer)))
        return challenge
    }

    /// The sale's current proof-of-work nonce; anyone may ask (it binds no user: each solution
    /// is spent once). None before the start (425 `not_started`, as the other endpoints), so
    /// nothing can be solved while people wait.
    static func work(_ request: Request, context: BuyingContext) throws -> Work {
        guard let id = request.query["sale"], !id.isEmpty else {
            throw HTTPError(.badRequest, "name the sale: /api/captcha/pow?sale=ID")
        }
        return try context.inSession { session in
            let now = context.clock()
            guard let sale = try session.sale(id: id, nowMs: now), sale.powBits > 0 else {
                throw Refusal(.notFound, "sale \"\(id)\" asks for no proof of work")
            }
            let asking = try SaleRequest(
                request, sale: sale, at: now, session: session, context: context, counts: false)
            try asking.checkState()
            try asking.limitRate(scope: .captcha)
            guard let nonce = context.work.nonce(sale: sale.id, startMs: sale.startsAt, nowMs: now) else {
                throw Refusal.notStarted
            }
            return Work(
                nonce: nonce, bits: sale.powBits, expiresAt: ProofOfWork.expiry(startMs: sale.startsAt, nowMs: now))
        }
    }

    static func verify(_ request: Request, context: BuyingContext) throws -> Pass {
        let body = try request.decodeJSON(Answer.self, example: #"{"challenge":"…","answer":"…"}"#)
        let user = try context.identity.user(of: request)
        let claims = try CaptchaTokens.claims(body.challenge, kind: .challenge, signer: context.orderTokens)
        let now = context.clock()
        let sale = try context.inSession { session in
            guard let sale = try session.sale(id: claims.sale, nowMs: now) else {
                throw Refusal(.captchaFailed, "the challenge names no sale here; ask for another")
            }
            let answering = try SaleRequest(request, sale: sale, at: now, session: session, context: context)
            try answering.counted { () throws(Refusal) in try CaptchaTokens.check(claims, isFor: user) }
            try answering.limitRate(scope: .captcha)
            // One answer per challenge: a script cannot try every code against one image.
            _ = try answering.counted { () throws(Refusal) in try CaptchaTokens.spend(claims, answering) }
            guard let digest = claims.digest,
                context.answers.matches(digest, challenge: claims.jti, answer: body.answer)
            else {
                throw answering.refuse(Refusal(.captchaFailed, "the answer is wrong; ask for another challenge"))
            }
            return sale
        }
        let expiresAt = now + passLifetimeMs
        let pass = try context.orderTokens.sign(
            CaptchaClaims(kind: .pass, user: user, sale: sale.id, id: randomHex(bytes: 12), expires: date(expiresAt)))
        return Pass(pass: pass, expiresAt: expiresAt)
    }

    static func date(_ milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}

/// Reading and spending captcha challenges and passes. Their refusals are not counted here:
/// the caller counts them in the sale it decides for.
enum CaptchaTokens {
    /// The claims of `token` when it is a valid, unexpired `kind`; otherwise 403 `captcha_failed`.
    static func claims(_ token: String, kind: CaptchaClaims.Kind, signer: TokenSigner) throws(Refusal)
        -> CaptchaClaims
    {
        let claims: CaptchaClaims
        do {
            claims = try signer.verify(token, as: CaptchaClaims.self)
        } catch .expired {
            throw Refusal(.captchaFailed, "the captcha \(kind.rawValue) has expired; ask for another challenge")
        } catch {
            throw Refusal(.captchaFailed, "the captcha \(kind.rawValue) is not valid: \(error)")
        }
        guard claims.kind == kind else {
            throw Refusal(.captchaFailed, "this is a captcha \(claims.kind.rawValue), not a \(kind.rawValue)")
        }
        return claims
    }

    /// 403 `captcha_failed` unless the challenge or pass was issued to `user`.
    static func check(_ claims: CaptchaClaims, isFor user: String) throws(Refusal) {
        guard claims.sub.value == user else {
            throw Refusal(.captchaFailed, "the captcha \(claims.kind.rawValue) was issued to another user")
        }
    }

    /// Marks the challenge or pass used until it expires (and a tick more); 403
    /// `captcha_failed` if it was. The lease is the way to take the spending back.
    static func spend(_ claims: CaptchaClaims, _ request: SaleRequest) throws(Refusal) -> Lease {
        let context = request.context
        let spent = request.session.gate.spent
        let left = Int64(claims.exp.value.timeIntervalSince1970 * 1000) - context.clock() + spent.tickMs
        let key = context.tableKeys.key("spent", claims.kind.rawValue, claims.jti)
        switch spent.acquire(key, nowMs: context.clock(), leaseMs: min(max(left, 1), spent.maxLeaseMs)) {
        case .acquired(let lease): return lease
        case .tableFull: throw tableFull
        case .contended: throw .contended
        case .unavailable: throw .gateUnreachable
        case .busy:
            throw Refusal(.captchaFailed, "this captcha \(claims.kind.rawValue) was used already; ask for another")
        }
    }

    /// A full table of spent challenges fails closed: letting one through could let it twice.
    static let tableFull = Refusal.fixed(
        .busy, "too many challenges are being answered at once; retry shortly", retryAfterSeconds: 1)
}
