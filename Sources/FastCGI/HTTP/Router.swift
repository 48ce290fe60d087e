import HTTPTypes

/// Answers one request; throws `HTTPError` for an expected refusal, anything else is a bug
/// that the runtime answers with 500 `internal`.
public typealias Handler = @Sendable (Request) throws -> Response

/// One path, or every path under a prefix, with the methods it accepts and its handler.
/// Accepting GET also accepts HEAD.
public struct Route: Sendable {
    public var path: String
    /// True when the route answers every path that starts with `path` and goes on after it
    /// (`/api/order/` answers `/api/order/x`, not `/api/order/` itself).
    public var isPrefix: Bool
    public var methods: [HTTPRequest.Method]
    public var handler: Handler

    public init(_ path: String, methods: [HTTPRequest.Method], handler: @escaping Handler) {
        self.init(path: path, isPrefix: false, methods: methods, handler: handler)
    }

    /// A route for every path under `prefix`; the handler reads the rest of `request.path`.
    public init(prefix: String, methods: [HTTPRequest.Method], handler: @escaping Handler) {
        self.init(path: prefix, isPrefix: true, methods: methods, handler: handler)
    }

    private init(path: String, isPrefix: Bool, methods: [HTTPRequest.Method], handler: @escaping Handler) {
        self.path = path
        self.isPrefix = isPrefix
        self.methods = methods.contains(.get) && !methods.contains(.head) ? methods + [.head] : methods
        self.handler = handler
    }

    func matches(_ requestPath: String) -> Bool {
        isPrefix ? requestPath.count > path.count && requestPath.hasPrefix(path) : requestPath == path
    }
}

/// Picks the route for a request: an unknown path is a 404, a known path with another
/// method is a 405 whose `Allow` lists what the path accepts.
public struct Router: Sendable {
    public var routes: [Route]

    public init(_ routes: [Route]) {
        self.routes = routes
    }

    public func handler(for method: HTTPRequest.Method, path: String) throws(HTTPError) -> Handler {
        let matching = routes.filter { $0.matches(path) }
        if let route = matching.first(where: { $0.methods.contains(method) }) {
            return route.handler
        }
        let allowed = matching.flatMap(\.methods).map(\.rawValue)
        guard !allowed.isEmpty else { throw Self.notFound }
        var headers = HTTPFields()
        headers[.allow] = allowed.joined(separator: ", ")
        throw HTTPError(.methodNotAllowed, "\(path) accepts \(allowed.joined(separator: ", "))", headers: headers)
    }

    /// The answer for a path nothing serves, the same as the web server's own 404 body (see
    /// `Deployment.errorPages`). A handler that must hide that a path exists (an order URL
    /// with a wrong secret) throws this same error; it does not echo the path.
    public static let notFound = HTTPError.fixed(.notFound, notFoundMessage)

    public static let notFoundMessage = "nothing is served at this path"
}
