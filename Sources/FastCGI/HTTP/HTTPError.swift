import HTTPTypes

/// An error that a function answers with: a stable code, a message for people, the status and
/// any extra headers (such as `Allow` or `Retry-After`). The runtime turns it into the JSON
/// body `{"error":{"code":…,"message":…}}`; this is the one place errors become HTTP.
public struct HTTPError: Error, Sendable, Equatable {
    public var code: ErrorCode
    public var message: String
    public var status: HTTPResponse.Status
    public var headers: HTTPFields

    public init(_ code: ErrorCode, _ message: String, status: HTTPResponse.Status? = nil, headers: HTTPFields = [:]) {
        self.code = code
        self.message = message
        self.status = status ?? code.status
        self.headers = headers
    }
}

extension HTTPError: CustomStringConvertible {
    public var description: String { "\(status.code) \(code.rawValue): \(message)" }
}
