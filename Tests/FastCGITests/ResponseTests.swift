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
    @Test func everyCodeHasItsDocumentedStatus() {
        let allowed: Set<Int> = [400, 401, 403, 404, 405, 409, 413, 425, 429, 500, 503]
        for code in ErrorCode.allCases {
            #expect(allowed.contains(code.status.code), "\(code) → \(code.status.code)")
        }
        #expect(ErrorCode.notStarted.status.code == 425)
        #expect(ErrorCode.busy.status.code == 503)
        #expect(ErrorCode.payloadTooLarge.status.code == 413)
        #expect(ErrorCode.internal.status.code == 500)
    }

    @Test func codesAreTheArchitectureStrings() {
        #expect(
            ErrorCode.allCases.map(\.rawValue) == [
                "not_started", "sold_out", "ended", "already_ordered", "invalid_token", "token_expired",
                "captcha_required", "captcha_failed", "rate_limited", "busy", "unauthorized", "forbidden",
                "bad_request", "not_found", "method_not_allowed", "payload_too_large", "internal",
            ])
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
