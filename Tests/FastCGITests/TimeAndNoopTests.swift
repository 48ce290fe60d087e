import FastCGI
import Foundation
import Functions
import HTTPTypes
import Testing

@Suite struct TimeAndNoopTests {
    func get(_ function: Function, _ uri: String, method: String = "GET") -> Response {
        function.respond(to: Params(["REQUEST_METHOD": method, "REQUEST_URI": uri]), maxBodyBytes: 0) { _ in [] }
    }

    @Test func timeAnswersTheServerClockInMillisecondsUncached() throws {
        let before = Int64(Date().timeIntervalSince1970 * 1000)
        let response = get(TimeFunction.function, "/api/time")
        let after = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(response.status == .ok)
        #expect(response.headers[.cacheControl] == "no-store")
        let now = try JSONDecoder().decode(TimeFunction.Body.self, from: Data(response.body)).now
        #expect(now >= before - 1 && now <= after + 1)
    }

    @Test func timeRefusesOtherMethods() {
        let response = get(TimeFunction.function, "/api/time", method: "POST")
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers[.allow] == "GET, HEAD")
    }

    @Test func noopAnswersAnEmptyObject() {
        let response = get(NoopFunction.function, "/api/noop")
        #expect(response.status == .ok)
        #expect(response.body == Array("{}".utf8))
    }
}
