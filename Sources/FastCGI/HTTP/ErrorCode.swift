import HTTPTypes

/// The stable error codes that clients and tests rely on, each with the status it is sent with.
public enum ErrorCode: String, CaseIterable, Codable, Sendable {
    case notStarted = "not_started"
    case soldOut = "sold_out"
    case ended
    case alreadyOrdered = "already_ordered"
    case invalidToken = "invalid_token"
    case tokenExpired = "token_expired"
    case captchaRequired = "captcha_required"
    case captchaFailed = "captcha_failed"
    case rateLimited = "rate_limited"
    case busy
    case unauthorized
    case forbidden
    case badRequest = "bad_request"
    case notFound = "not_found"
    case methodNotAllowed = "method_not_allowed"
    case payloadTooLarge = "payload_too_large"
    case `internal`

    /// The HTTP status this code is answered with unless a caller has a better one.
    public var status: HTTPResponse.Status {
        switch self {
        case .notStarted: .tooEarly
        case .soldOut, .ended, .alreadyOrdered: .conflict
        case .invalidToken, .tokenExpired, .unauthorized: .unauthorized
        case .captchaRequired, .captchaFailed, .forbidden: .forbidden
        case .rateLimited: .tooManyRequests
        case .busy: .serviceUnavailable
        case .badRequest: .badRequest
        case .notFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .payloadTooLarge: .contentTooLarge
        case .internal: .internalServerError
        }
    }
}
