import Foundation
import HTTPTypes

/// One request as a function sees it: method, decoded path and query, headers, the client's
/// address and the body (read up to the function's cap).
public struct Request: Sendable {
    public var method: HTTPRequest.Method
    public var path: String
    public var query: Query
    public var headers: HTTPFields
    public var remoteAddress: String
    public var body: [UInt8]

    public init(
        method: HTTPRequest.Method, path: String, query: Query = Query(), headers: HTTPFields = [:],
        remoteAddress: String = "127.0.0.1", body: [UInt8] = []
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.remoteAddress = remoteAddress
        self.body = body
    }

    /// Parses the request line parts from CGI parameters; the body is left empty.
    public init(params: Params) throws(HTTPError) {
        for name in ["REQUEST_METHOD", "REQUEST_URI", "QUERY_STRING"] where params.notUTF8.contains(name) {
            throw HTTPError(.badRequest, "\(name) is not valid UTF-8")
        }
        guard let rawMethod = params["REQUEST_METHOD"], !rawMethod.isEmpty else {
            throw HTTPError(.badRequest, "the request has no REQUEST_METHOD")
        }
        guard let method = HTTPRequest.Method(rawMethod) else {
            throw HTTPError(.badRequest, "the request method is not a valid token")
        }
        guard let uri = params["REQUEST_URI"], uri.hasPrefix("/") else {
            throw HTTPError(.badRequest, "the request has no REQUEST_URI starting with /")
        }
        let rawPath = uri.prefix { $0 != "?" }
        guard let path = String(rawPath).removingPercentEncoding, !path.contains("\0") else {
            throw HTTPError(.badRequest, "the path has a malformed percent-encoding or is not UTF-8")
        }
        let rawQuery = params["QUERY_STRING"].map { Substring($0) } ?? uri.dropFirst(rawPath.count + 1)
        self.init(
            method: method,
            path: path,
            query: try Query(parsing: rawQuery),
            headers: Self.headers(from: params),
            remoteAddress: params["REMOTE_ADDR"] ?? ""
        )
    }

    /// `HTTP_USER_AGENT` becomes `user-agent`; `CONTENT_TYPE` and `CONTENT_LENGTH` join them.
    private static func headers(from params: Params) -> HTTPFields {
        var headers = HTTPFields()
        for (name, value) in params.values {
            let headerName: Substring
            if name.hasPrefix("HTTP_") {
                headerName = name.dropFirst(5)
            } else if name == "CONTENT_TYPE" || name == "CONTENT_LENGTH" {
                headerName = Substring(name)
            } else {
                continue
            }
            if let fieldName = HTTPField.Name(headerName.lowercased().replacing("_", with: "-")) {
                headers.append(HTTPField(name: fieldName, value: value))
            }
        }
        return headers
    }
}
