import Foundation
import HTTPTypes

/// What a function answers: status, headers and body bytes.
public struct Response: Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var headers: HTTPFields
    public var body: [UInt8]

    public init(status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON answer; `Cache-Control: no-store` unless the caller sets its own.
    public static func json(
        _ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]
    ) throws -> Response {
        Response(status: status, headers: jsonHeaders(headers), body: Array(try encoder().encode(value)))
    }

    /// A JSON answer from bytes that are already JSON.
    public static func json(bytes: [UInt8], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        Response(status: status, headers: jsonHeaders(headers), body: bytes)
    }

    /// The JSON error answer for `error`.
    public init(error: HTTPError) {
        let body = ErrorBody(error: .init(code: error.code, message: error.message))
        // Encoding two strings cannot fail; the fallback keeps the answer JSON regardless.
        self =
            (try? .json(body, status: error.status, headers: error.headers))
            ?? .json(bytes: Array(#"{"error":{"code":"internal"}}"#.utf8), status: .internalServerError)
    }

    /// Sorted keys and plain slashes: the same bytes for the same value.
    private static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    private static func jsonHeaders(_ extra: HTTPFields) -> HTTPFields {
        var headers: HTTPFields = [.contentType: "application/json", .cacheControl: "no-store"]
        for field in extra {
            headers[field.name] = field.value
        }
        return headers
    }
}

/// The body of every error answer: `{"error":{"code":…,"message":…}}`.
public struct ErrorBody: Codable, Sendable, Equatable {
    public struct Detail: Codable, Sendable, Equatable {
        public var code: ErrorCode
        public var message: String

        public init(code: ErrorCode, message: String) {
            self.code = code
            self.message = message
        }
    }

    public var error: Detail

    public init(error: Detail) {
        self.error = error
    }
}
