import FastCGI
import Foundation
import HTTPTypes
import Testing

/// The whole request pipeline of a function, without a socket.
@Suite struct FunctionTests {
    struct Failure: Error {}

    /// A domain's decision, answered through its one mapping to HTTP.
    struct Decision: HTTPErrorConvertible {
        var httpError: HTTPError { HTTPError(soldOut, "none left", headers: [.retryAfter: "7"]) }
    }

    let function = Function(
        name: "test",
        routes: [
            Route("/api/echo", methods: [.post]) { request in Response.json(bytes: request.body) },
            Route("/api/fail", methods: [.get]) { _ in throw Failure() },
            Route("/api/refuse", methods: [.get]) { _ in throw HTTPError(soldOut, "all gone") },
            Route("/api/decide", methods: [.get]) { _ in throw Decision() },
        ])

    func respond(
        _ method: String, _ uri: String, body: [UInt8] = [], contentLength: String? = nil, maxBodyBytes: Int = 16
    ) -> (Response, readCalls: Int) {
        var values = ["REQUEST_METHOD": method, "REQUEST_URI": uri]
        values["CONTENT_LENGTH"] = contentLength ?? (body.isEmpty ? nil : String(body.count))
        var readCalls = 0
        let response = function.respond(to: Params(values), maxBodyBytes: maxBodyBytes) { count in
            readCalls += 1
            return Array(body.prefix(count))
        }
        return (response, readCalls)
    }

    func errorCode(_ response: Response) throws -> ErrorCode {
        try JSONDecoder().decode(ErrorBody.self, from: Data(response.body)).error.code
    }

    @Test func readsTheBodyAndAnswers() {
        let (response, reads) = respond("POST", "/api/echo", body: Array(#"{"a":1}"#.utf8))
        #expect(response.status == .ok)
        #expect(response.body == Array(#"{"a":1}"#.utf8))
        #expect(reads == 1)
    }

    @Test func aBodyOverTheCapIsRefusedWithoutReadingIt() throws {
        let (response, reads) = respond("POST", "/api/echo", body: [UInt8](repeating: 65, count: 17))
        #expect(response.status == .contentTooLarge)
        #expect(try errorCode(response) == .payloadTooLarge)
        #expect(reads == 0)
    }

    @Test func aBodyExactlyAtTheCapIsAccepted() {
        #expect(respond("POST", "/api/echo", body: [UInt8](repeating: 65, count: 16)).0.status == .ok)
    }

    @Test(arguments: ["abc", "-1", "1e3", " 5"])
    func aMalformedContentLengthIsBadRequest(_ length: String) throws {
        let (response, reads) = respond("POST", "/api/echo", body: [1], contentLength: length)
        #expect(response.status == .badRequest)
        #expect(try errorCode(response) == .badRequest)
        #expect(reads == 0)
    }

    @Test func aBodyShorterThanItsContentLengthIsBadRequest() throws {
        let (response, _) = respond("POST", "/api/echo", body: [1, 2], contentLength: "10")
        #expect(response.status == .badRequest)
    }

    @Test func routingComesBeforeTheBody() throws {
        let (notFound, reads) = respond("POST", "/api/nothing", body: [UInt8](repeating: 0, count: 100))
        #expect(notFound.status == .notFound)
        #expect(try errorCode(notFound) == .notFound)
        #expect(reads == 0)
        let (wrongMethod, _) = respond("GET", "/api/echo")
        #expect(wrongMethod.status == .methodNotAllowed)
        #expect(wrongMethod.headers[.allow] == "POST")
    }

    @Test func aThrownHTTPErrorIsItsJSONAnswer() throws {
        let (response, _) = respond("GET", "/api/refuse")
        #expect(response.status == .conflict)
        let body = try JSONDecoder().decode(ErrorBody.self, from: Data(response.body))
        #expect(body == ErrorBody(error: .init(code: soldOut, message: "all gone")))
    }

    @Test func aDomainErrorIsAnsweredThroughItsMapping() throws {
        let (response, _) = respond("GET", "/api/decide")
        #expect(response.status == .conflict)
        #expect(response.headers[.retryAfter] == "7")
        let body = try JSONDecoder().decode(ErrorBody.self, from: Data(response.body))
        #expect(body == ErrorBody(error: .init(code: soldOut, message: "none left")))
    }

    @Test func anUnexpectedErrorIsInternalAndTheFunctionKeepsAnswering() throws {
        let (failed, _) = respond("GET", "/api/fail")
        #expect(failed.status == .internalServerError)
        #expect(try errorCode(failed) == .internal)
        #expect(!String(decoding: failed.body, as: UTF8.self).contains("Failure"))
        #expect(respond("POST", "/api/echo", body: [1]).0.status == .ok)
    }

    @Test func aMissingMethodIsBadRequest() throws {
        let response = function.respond(to: Params(["REQUEST_URI": "/api/echo"]), maxBodyBytes: 0) { _ in [] }
        #expect(response.status == .badRequest)
        #expect(try errorCode(response) == .badRequest)
    }
}

/// A code a domain adds to the runtime's own.
private let soldOut = ErrorCode("sold_out", status: .conflict)
