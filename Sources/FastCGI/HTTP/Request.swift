import Foundation
import HTTPTypes

/// One request as a function sees it: method, decoded path and query, headers, the client's
/// address and the body (read up to the function's cap).
public struct Request: Sendable {
    public var method: HTTPRequest.Method
    public var path: String
    public var query: Query
    public var remoteAddress: String
    public var body: [UInt8]
    /// How many requests wait behind this one for the same process (its listening socket's
    /// accept queue), asked on demand; nil when unknown (not behind a unix socket, or a test).
    public var queuedBehind: @Sendable () -> Int? = { nil }

    /// The request headers. Built from the CGI parameters on first use: most functions never
    /// read them, so they do not pay for it.
    public var headers: HTTPFields {
        get {
            switch headerSource {
            case .fields(let fields): fields
            case .params(let entries): Self.headers(from: entries)
            }
        }
        set { headerSource = .fields(newValue) }
    }

    /// The values of header `name`, in order. From CGI parameters this compares names in place
    /// (a token request asks for three headers of a few dozen) instead of building ``headers``.
    public func values(ofHeader name: HTTPField.Name) -> [String] {
        switch headerSource {
        case .fields(let fields):
            return fields[values: name]
        case .params(let entries):
            return entries.filter { Self.param($0.name, carries: name.canonicalName) }.map(\.value)
        }
    }

    /// Whether CGI parameter `param` (`HTTP_X_FORWARDED_FOR`, `CONTENT_TYPE`) carries the header
    /// whose lowercase name is `header` (`x-forwarded-for`, `content-type`).
    private static func param(_ param: String, carries header: String) -> Bool {
        var spelled = param.utf8[...]
        if spelled.starts(with: "HTTP_".utf8) {
            spelled = spelled.dropFirst(5)
        } else if !(param == "CONTENT_TYPE" || param == "CONTENT_LENGTH") {
            return false
        }
        return spelled.elementsEqual(header.utf8) { cgi, byte in
            switch cgi {
            case UInt8(ascii: "_"): byte == UInt8(ascii: "-")
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte == cgi | 0x20
            default: byte == cgi
            }
        }
    }

    private enum HeaderSource: Sendable {
        case fields(HTTPFields)
        case params([Params.Entry])
    }

    private var headerSource: HeaderSource

    public init(
        method: HTTPRequest.Method, path: String, query: Query = Query(), headers: HTTPFields = [:],
        remoteAddress: String = "127.0.0.1", body: [UInt8] = []
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headerSource = .fields(headers)
        self.remoteAddress = remoteAddress
        self.body = body
    }

    /// Parses the request line parts from CGI parameters; the body is left empty.
    public init(params: Params) throws(HTTPError) {
        for name in ["REQUEST_METHOD", "REQUEST_URI", "QUERY_STRING"] where !params.isUTF8(name) {
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
        let rawQuery = params["QUERY_STRING"].map { Substring($0) } ?? uri.dropFirst(rawPath.count + 1)
        self.method = method
        self.path = try Self.decodePath(rawPath)
        self.query = try Query(parsing: rawQuery)
        self.headerSource = .params(params.entries.filter { Self.headerName(of: $0.name) != nil })
        self.remoteAddress = params["REMOTE_ADDR"] ?? ""
        self.body = []
    }

    private static func decodePath(_ raw: Substring) throws(HTTPError) -> String {
        let decoded = raw.utf8.contains(UInt8(ascii: "%")) ? String(raw).removingPercentEncoding : String(raw)
        guard let decoded, !decoded.utf8.contains(0) else {
            throw HTTPError(.badRequest, "the path has a malformed percent-encoding or is not UTF-8")
        }
        return decoded
    }

    /// `HTTP_USER_AGENT` becomes `user-agent`; `CONTENT_TYPE` and `CONTENT_LENGTH` join them.
    private static func headers(from entries: [Params.Entry]) -> HTTPFields {
        var headers = HTTPFields()
        for entry in entries {
            if let name = headerName(of: entry.name),
                let fieldName = HTTPField.Name(name.lowercased().replacing("_", with: "-"))
            {
                headers.append(HTTPField(name: fieldName, value: entry.value))
            }
        }
        return headers
    }

    /// The header a CGI parameter carries, in CGI spelling, or nil if it carries none.
    private static func headerName(of param: String) -> Substring? {
        if param.hasPrefix("HTTP_") { return param.dropFirst(5) }
        return param == "CONTENT_TYPE" || param == "CONTENT_LENGTH" ? Substring(param) : nil
    }
}
