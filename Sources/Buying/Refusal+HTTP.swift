import FastCGI
import HTTPTypes
import Sales

extension ErrorCode {
    static let notStarted = ErrorCode("not_started", status: .tooEarly)
    static let ended = ErrorCode("ended", status: .conflict)
    static let soldOut = ErrorCode("sold_out", status: .conflict)
    static let alreadyOrdered = ErrorCode("already_ordered", status: .conflict)
    static let invalidToken = ErrorCode("invalid_token", status: .unauthorized)
    static let tokenExpired = ErrorCode("token_expired", status: .unauthorized)
    static let captchaRequired = ErrorCode("captcha_required", status: .forbidden)
    static let captchaFailed = ErrorCode("captcha_failed", status: .forbidden)

    /// Every code a buying function answers with: the runtime's and the sale's.
    static let all: [ErrorCode] =
        generic + [
            .notStarted, .ended, .soldOut, .alreadyOrdered, .invalidToken, .tokenExpired, .captchaRequired,
            .captchaFailed,
        ]
}

extension Refusal.Reason {
    /// The code a refusal for this reason is answered with, and with it the status.
    var code: ErrorCode {
        switch self {
        case .notStarted: .notStarted
        case .ended: .ended
        case .soldOut: .soldOut
        case .alreadyOrdered: .alreadyOrdered
        case .invalidToken: .invalidToken
        case .tokenExpired: .tokenExpired
        case .captchaRequired: .captchaRequired
        case .captchaFailed: .captchaFailed
        case .forbidden: .forbidden
        case .rateLimited: .rateLimited
        case .busy: .busy
        case .badRequest: .badRequest
        case .notFound: .notFound
        }
    }
}

/// The one place a refusal becomes HTTP: its reason's code and status, its message, and
/// `Retry-After` when the buyer should ask again.
extension Refusal: HTTPErrorConvertible {
    public var httpError: HTTPError {
        let headers: HTTPFields = retryAfterSeconds.map { [.retryAfter: String($0)] } ?? [:]
        return isFixed
            ? HTTPError.fixed(reason.code, message, headers: headers)
            : HTTPError(reason.code, message, headers: headers)
    }
}
