import Foundation
import HTTPTypes
import Synchronization

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
        Response(status: status, headers: jsonHeaders(headers), body: Array(try encoder.encode(value)))
    }

    /// A JSON answer from bytes that are already JSON.
    public static func json(bytes: [UInt8], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        Response(status: status, headers: jsonHeaders(headers), body: bytes)
    }

    /// The JSON error answer for `error`.
    public init(error: HTTPError) {
        self = .json(bytes: Self.errorBody(error), status: error.status, headers: error.headers)
    }

    /// The encoded `ErrorBody` of `error`. A crowd hears the same few refusals (sold out, not
    /// started) many thousand times a second, so the body of a fixed error is encoded once per
    /// process and kept, up to `errorBodyCacheLimit` of them; other errors are encoded each time.
    private static func errorBody(_ error: HTTPError) -> [UInt8] {
        let key = ErrorBody.Detail(code: error.code, message: error.message)
        if error.isFixed, let cached = errorBodies.withLock({ $0[key] }) { return cached }
        // Encoding two strings cannot fail; the fallback keeps the answer JSON regardless.
        let body =
            (try? Array(encoder.encode(ErrorBody(error: key)))) ?? Array(#"{"error":{"code":"internal"}}"#.utf8)
        if error.isFixed {
            errorBodies.withLock { cache in
                if cache.count < errorBodyCacheLimit { cache[key] = body }
            }
        }
        return body
    }

    static let errorBodyCacheLimit = 256
    private static let errorBodies = Mutex<[ErrorBody.Detail: [UInt8]]>([:])

    /// Sorted keys and plain slashes: the same bytes for the same value. One per process, made
    /// once: never configured again, it encodes from any thread.
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

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
    public struct Detail: Codable, Sendable, Hashable {
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
