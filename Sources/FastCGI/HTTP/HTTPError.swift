import HTTPTypes

/// An error that a function answers with: a stable code, a message for people, the status and
/// any extra headers (such as `Allow` or `Retry-After`). The runtime turns it into the JSON
/// body `{"error":{"code":…,"message":…}}`; this is the one place errors become HTTP.
public struct HTTPError: Error, Sendable, Equatable {
    public var code: ErrorCode
    public var message: String
    public var status: HTTPResponse.Status
    public var headers: HTTPFields
    /// True when the message never varies with the request, so its encoded body can be kept
    /// and reused (see `fixed`); a message that quotes request data is encoded each time.
    public var isFixed = false

    public init(_ code: ErrorCode, _ message: String, status: HTTPResponse.Status? = nil, headers: HTTPFields = [:]) {
        self.code = code
        self.message = message
        self.status = status ?? code.status
        self.headers = headers
    }

    /// An error whose message is the same for every request: a refusal a crowd hears many
    /// times a second, whose body is encoded once per process.
    public static func fixed(_ code: ErrorCode, _ message: String, headers: HTTPFields = [:]) -> HTTPError {
        var error = HTTPError(code, message, headers: headers)
        error.isFixed = true
        return error
    }
}

extension HTTPError: CustomStringConvertible {
    public var description: String { "\(status.code) \(code.rawValue): \(message)" }
}

/// An error of a function's domain that is answered as HTTP: the domain decides, and its
/// conformance says once how each decision is answered (status, code, message, headers).
public protocol HTTPErrorConvertible: Error {
    /// The answer to send for this error.
    var httpError: HTTPError { get }
}
