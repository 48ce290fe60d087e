/// Why a request is turned away: a decision of the sale domain, made where the check is, which
/// names the counters it adds to. The functions answer it with its HTTP status and code in one
/// place; the domain knows no HTTP.
public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// What the buyer is told, as the stable code of the answer.
    public enum Reason: String, Sendable, CaseIterable {
        case notStarted = "not_started"
        case ended
        case soldOut = "sold_out"
        case alreadyOrdered = "already_ordered"
        case invalidToken = "invalid_token"
        case tokenExpired = "token_expired"
        case captchaRequired = "captcha_required"
        case captchaFailed = "captcha_failed"
        case forbidden
        case rateLimited = "rate_limited"
        /// A moment's overload or fault: ask again after `retryAfterSeconds`.
        case busy
        /// The request itself is wrong.
        case badRequest = "bad_request"
        case notFound = "not_found"
    }

    public var reason: Reason
    public var message: String
    /// When to ask again, in seconds, if the buyer should.
    public var retryAfterSeconds: Int64?
    /// The sale's counters one such refusal adds to where it is decided.
    public var counters: [SaleCounter]
    /// True when the message never varies with the request, so its answer can be kept and reused.
    public var isFixed: Bool

    /// A refusal for `reason`, counted in the reason's own counter unless `counters` says otherwise.
    public init(
        _ reason: Reason, _ message: String, retryAfterSeconds: Int64? = nil, counters: [SaleCounter]? = nil
    ) {
        self.reason = reason
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
        self.counters = counters ?? [reason.counter]
        self.isFixed = false
    }

    /// A refusal whose message is the same for every request: one a crowd hears many times a second.
    public static func fixed(
        _ reason: Reason, _ message: String, retryAfterSeconds: Int64? = nil, counters: [SaleCounter]? = nil
    ) -> Refusal {
        var refusal = Refusal(reason, message, retryAfterSeconds: retryAfterSeconds, counters: counters)
        refusal.isFixed = true
        return refusal
    }

    public var description: String { "\(reason.rawValue): \(message)" }
}

extension Refusal.Reason {
    /// The counter a refusal for this reason adds to.
    public var counter: SaleCounter {
        switch self {
        case .notStarted: .rejectedNotStarted
        case .soldOut: .rejectedSoldOut
        case .ended: .rejectedEnded
        case .alreadyOrdered: .rejectedAlreadyOrdered
        case .invalidToken, .tokenExpired: .rejectedInvalidToken
        case .busy: .rejectedBusy
        case .rateLimited: .rejectedRateLimited
        case .captchaRequired: .rejectedCaptchaRequired
        case .captchaFailed: .rejectedCaptcha
        case .forbidden: .rejectedForbidden
        case .badRequest, .notFound: .rejectedOther
        }
    }
}

extension Refusal {
    public static let notStarted = Refusal.fixed(.notStarted, "the sale has not started; count down with /api/time")
    public static let ended = Refusal.fixed(.ended, "the sale has ended")
    public static let soldOut = Refusal.fixed(.soldOut, "the sale is sold out")
    public static let alreadyOrdered = Refusal.fixed(.alreadyOrdered, "you already ordered in this sale")
    /// A second request of an account while its first runs: `busy`, counted also as such.
    public static let accountBusy = Refusal.fixed(
        .busy, "another request of this account is in progress; retry when it has answered", retryAfterSeconds: 1,
        counters: [.rejectedBusy, .rejectedAccountBusy])
    /// A shared table's places were taken by other claims each time this request looked: nothing
    /// is held or counted, and a retry a second later gets its answer.
    public static let contended = Refusal.fixed(
        .busy, "too many requests at once; retry in a second", retryAfterSeconds: 1)
    /// The store stayed locked past its busy timeout, or could not write for a moment.
    public static let storeBusy = Refusal.fixed(
        .busy, "the order book is busy; retry in a second", retryAfterSeconds: 1)
    /// The store's log failed to sync: this process takes no more orders.
    public static let ordersStopped = Refusal.fixed(
        .busy, "orders are stopped on this server until an operator checks the disk and restarts serve",
        retryAfterSeconds: 1)
    /// A shared gate's server could not be reached: nothing was let through unguarded.
    public static let gateUnreachable = Refusal.fixed(
        .busy, "the shared gate cannot be reached; retry in a second", retryAfterSeconds: 1)
    /// The gate's memory failed during the request (its file truncated): its answer may rest on
    /// zeros, not stock.
    public static let gateRebuilding = Refusal.fixed(
        .busy, "the stock gate is being rebuilt; retry in a second", retryAfterSeconds: 1)
}
