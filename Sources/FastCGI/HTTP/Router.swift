import HTTPTypes

/// Answers one request; throws `HTTPError` for an expected refusal, anything else is a bug
/// that the runtime answers with 500 `internal`.
public typealias Handler = @Sendable (Request) throws -> Response

/// One path with the methods it accepts and its handler. Accepting GET also accepts HEAD.
public struct Route: Sendable {
    public var path: String
    public var methods: [HTTPRequest.Method]
    public var handler: Handler

    public init(_ path: String, methods: [HTTPRequest.Method], handler: @escaping Handler) {
        self.path = path
        self.methods = methods.contains(.get) && !methods.contains(.head) ? methods + [.head] : methods
        self.handler = handler
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
        if let route = routes.first(where: { $0.path == path && $0.methods.contains(method) }) {
            return route.handler
        }
        let allowed = routes.filter { $0.path == path }.flatMap(\.methods).map(\.rawValue)
        guard !allowed.isEmpty else {
            throw HTTPError(.notFound, "no function answers \(path)")
        }
        var headers = HTTPFields()
        headers[.allow] = allowed.joined(separator: ", ")
        throw HTTPError(.methodNotAllowed, "\(path) accepts \(allowed.joined(separator: ", "))", headers: headers)
    }
}
