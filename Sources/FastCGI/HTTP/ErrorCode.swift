import HTTPTypes

/// A stable error code that clients and tests rely on, with the status it is sent with unless
/// a caller has a better one. Open: the runtime has the generic codes of HTTP below, and a
/// domain adds its own (`extension ErrorCode { static let soldOut = ErrorCode("sold_out", status: .conflict) }`).
public struct ErrorCode: Hashable, Sendable, CustomStringConvertible {
    /// The code as the answer's JSON body spells it.
    public let rawValue: String
    public let status: HTTPResponse.Status

    public init(_ rawValue: String, status: HTTPResponse.Status) {
        self.rawValue = rawValue
        self.status = status
    }

    public var description: String { rawValue }

    /// Codes compare by their text: a code decoded from an answer equals the one it was sent as.
    public static func == (lhs: ErrorCode, rhs: ErrorCode) -> Bool { lhs.rawValue == rhs.rawValue }

    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

    public static let badRequest = ErrorCode("bad_request", status: .badRequest)
    public static let unauthorized = ErrorCode("unauthorized", status: .unauthorized)
    public static let forbidden = ErrorCode("forbidden", status: .forbidden)
    public static let notFound = ErrorCode("not_found", status: .notFound)
    public static let methodNotAllowed = ErrorCode("method_not_allowed", status: .methodNotAllowed)
    public static let payloadTooLarge = ErrorCode("payload_too_large", status: .contentTooLarge)
    public static let rateLimited = ErrorCode("rate_limited", status: .tooManyRequests)
    public static let busy = ErrorCode("busy", status: .serviceUnavailable)
    public static let `internal` = ErrorCode("internal", status: .internalServerError)

    /// The runtime's own codes.
    public static let generic: [ErrorCode] = [
        .badRequest, .unauthorized, .forbidden, .notFound, .methodNotAllowed, .payloadTooLarge, .rateLimited, .busy,
        .internal,
    ]
}

extension ErrorCode: Codable {
    /// Decoded from an answer: the status is not in the body, so it is the one of the answer
    /// the caller read it from, unknown here (0) for a code that is not the runtime's own.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        self = Self.generic.first { $0.rawValue == text } ?? ErrorCode(text, status: .init(code: 0))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
