import HTTPTypes
import Logging

/// A function: its name and routes. A plain value, so tests call `respond` without a socket;
/// `FastCGIServer` runs the same value behind a web server.
public struct Function: Sendable {
    public var name: String
    public var router: Router
    public var logger: Logger

    public init(name: String, routes: [Route]) {
        self.name = name
        self.router = Router(routes)
        self.logger = Logger(label: "flashsale.\(name)")
    }

    /// Answers one request: parse, route, read the body up to `maxBodyBytes`, handle. Every
    /// failure becomes a JSON error; an unexpected error is logged and answered 500 `internal`.
    /// `readBody(n)` reads up to `n` bytes of the request body; `queuedBehind` becomes the request's.
    public func respond(
        to params: Params, maxBodyBytes: Int, queuedBehind: @escaping @Sendable () -> Int? = { nil },
        readBody: (Int) -> [UInt8]
    ) -> Response {
        answer(method: params["REQUEST_METHOD"], uri: params["REQUEST_URI"]) {
            var request = try Request(params: params)
            request.queuedBehind = queuedBehind
            let handler = try router.handler(for: request.method, path: request.path)
            request.body = try Self.body(of: params, maxBodyBytes: maxBodyBytes, readBody: readBody)
            return try handler(request)
        }
    }

    /// Answers a request already parsed, body and all: what `respond` does after reading it.
    public func respond(to request: Request) -> Response {
        answer(method: request.method.rawValue, uri: request.path) {
            try router.handler(for: request.method, path: request.path)(request)
        }
    }

    /// The answer `body` makes, or the JSON error of what it threw: this is the one place an
    /// error becomes HTTP.
    private func answer(method: String?, uri: String?, _ body: () throws -> Response) -> Response {
        do {
            return try body()
        } catch let error as HTTPError {
            return Response(error: error)
        } catch let error as any HTTPErrorConvertible {
            return Response(error: error.httpError)
        } catch {
            logger.error("\(name): \(method ?? "-") \(uri ?? "-"): \(error)")
            return Response(error: HTTPError(.internal, "the function failed; the failure is logged"))
        }
    }

    private static func body(
        of params: Params, maxBodyBytes: Int, readBody: (Int) -> [UInt8]
    ) throws(HTTPError) -> [UInt8] {
        guard let rawLength = params["CONTENT_LENGTH"], !rawLength.isEmpty else { return [] }
        guard let length = Int(rawLength), length >= 0 else {
            throw HTTPError(.badRequest, "CONTENT_LENGTH is not a number")
        }
        guard length <= maxBodyBytes else {
            throw HTTPError(
                .payloadTooLarge, "the body is \(length) bytes; this function takes at most \(maxBodyBytes)")
        }
        let body = readBody(length)
        guard body.count == length else {
            throw HTTPError(.badRequest, "the body ended after \(body.count) of \(length) bytes")
        }
        return body
    }
}
