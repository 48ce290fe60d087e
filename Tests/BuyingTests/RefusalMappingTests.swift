import FastCGI
import Foundation
import Sales
import Testing

@testable import Buying

/// Refusals are the sale's decisions; each is answered through one mapping to HTTP.
@Suite struct RefusalMappingTests {
    @Test func codesAreTheArchitectureStringsWithTheirStatuses() {
        #expect(
            ErrorCode.all.map { "\($0.rawValue) \($0.status.code)" }.sorted()
                == [
                    "already_ordered 409", "bad_request 400", "busy 503", "captcha_failed 403", "captcha_required 403",
                    "ended 409", "forbidden 403", "internal 500", "method_not_allowed 405", "not_found 404",
                    "not_started 425", "payload_too_large 413", "rate_limited 429", "sold_out 409", "token_expired 401",
                    "invalid_token 401", "unauthorized 401",
                ].sorted())
    }

    @Test(arguments: Refusal.Reason.allCases)
    func everyReasonIsAnsweredWithItsOwnCode(reason: Refusal.Reason) {
        let answer = Refusal(reason, "why").httpError
        #expect(answer.code.rawValue == reason.rawValue)
        #expect(ErrorCode.all.contains(answer.code))
        #expect(answer.message == "why" && answer.headers[.retryAfter] == nil && !answer.isFixed)
    }

    @Test func aRefusalThatAsksForARetrySaysWhenAndAFixedOneIsKept() throws {
        let answer = Refusal.accountBusy.httpError
        #expect(answer.status == .serviceUnavailable && answer.headers[.retryAfter] == "1" && answer.isFixed)
        #expect(Refusal.accountBusy.counters == [.rejectedBusy, .rejectedAccountBusy])
        let limited = Refusal(.rateLimited, "slow down", retryAfterSeconds: 12).httpError
        #expect(limited.status == .tooManyRequests && limited.headers[.retryAfter] == "12")
        let body = try JSONDecoder().decode(ErrorBody.self, from: Data(Response(error: Refusal.soldOut.httpError).body))
        #expect(body.error.code == .soldOut && body.error.message == Refusal.soldOut.message)
    }
}
