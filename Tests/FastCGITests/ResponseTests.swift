import FastCGI
import Foundation
import HTTPTypes
import Testing

@Suite struct ResponseTests {
    @Test func errorBodyIsTheDocumentedJSON() {
        let response = Response(error: HTTPError(.rateLimited, "slow down", headers: [.retryAfter: "3"]))
        #expect(response.status == .tooManyRequests)
        #expect(
            String(decoding: response.body, as: UTF8.self)
                == #"{"error":{"code":"rate_limited","message":"slow down"}}"#)
        #expect(response.headers[.contentType] == "application/json")
        #expect(response.headers[.cacheControl] == "no-store")
        #expect(response.headers[.retryAfter] == "3")
    }

    @Test func cgiBytesCarryStatusHeadersLengthAndBody() {
        let response = Response.json(bytes: Array("{}".utf8), headers: [.cacheControl: "max-age=5"])
        let text = String(decoding: response.cgiBytes(), as: UTF8.self)
        #expect(text.hasPrefix("Status: 200 OK\r\n"))
        #expect(text.contains("Content-Type: application/json\r\n"))
        #expect(text.contains("Cache-Control: max-age=5\r\n"))
        #expect(!text.contains("no-store"))
        #expect(text.hasSuffix("Content-Length: 2\r\n\r\n{}"))
    }

    @Test func headAnswersKeepTheLengthButNotTheBody() {
        let text = String(decoding: Response.json(bytes: Array("{}".utf8)).cgiBytes(includeBody: false), as: UTF8.self)
        #expect(text.hasSuffix("Content-Length: 2\r\n\r\n"))
    }

    @Test func aHeaderValueCannotSplitTheAnswer() {
        let response = Response(status: .ok, headers: [.location: "/x\r\nSet-Cookie: evil=1"])
        let text = String(decoding: response.cgiBytes(), as: UTF8.self)
        #expect(!text.contains("\r\nSet-Cookie"))
    }
}

@Suite struct ErrorCodeTests {
    @Test func everyGenericCodeHasItsDocumentedStatus() {
        #expect(
            ErrorCode.generic.map { "\($0.rawValue) \($0.status.code)" } == [
                "bad_request 400", "unauthorized 401", "forbidden 403", "not_found 404", "method_not_allowed 405",
                "payload_too_large 413", "rate_limited 429", "busy 503", "internal 500",
            ])
    }

    @Test func aCodeDecodedFromAnAnswerEqualsTheOneSent() throws {
        let domain = ErrorCode("sold_out", status: .conflict)
        let decoded = try JSONDecoder().decode(ErrorCode.self, from: Data(#""sold_out""#.utf8))
        #expect(decoded == domain)
        #expect(try JSONDecoder().decode(ErrorCode.self, from: Data(#""busy""#.utf8)).status == .serviceUnavailable)
    }

    @Test func errorBodiesAreTheSameWhetherEncodedOnceOrKept() throws {
        // More distinct messages than the cache keeps: the ones past the limit are encoded each time.
        for round in 0..<2 {
            for index in 0..<300 {
                let error = HTTPError(.notFound, "no sale has id \"s\(index)\" \u{2603} </script>")
                let answer = Response(error: error)
                let decoded = try JSONDecoder().decode(ErrorBody.self, from: Data(answer.body))
                #expect(decoded.error == .init(code: .notFound, message: error.message), "round \(round)")
                #expect(answer.status == .notFound && answer.headers[.contentType] == "application/json")
            }
        }
        let busy = HTTPError(.busy, "later", headers: [.retryAfter: "1"])
        #expect(Response(error: busy) == Response(error: busy))
        #expect(Response(error: busy).headers[.retryAfter] == "1")
    }
}
