import Foundation
import Segment
import Store
import TestSupport
import Testing

/// Bot-like patterns through real lighttpd, each of which must lose.
@Suite struct AbuseTests {
    /// 200 accounts from one address (every request here comes from 127.0.0.1): the address
    /// gets no more tokens than its rate allows over the time it asked, the rest 429 with the wait.
    @Test func twoHundredAccountsFromOneAddressGetOnlyTheRate() throws {
        let shop = try LiveShop()
        let sale = try shop.createSale("crowded", stock: 1_000, perIPRate: 10)
        let outcomes = Outcomes()
        let started = Date()
        #expect(
            crowd(200, threads: 20) { index in
                outcomes.record("acct\(index)", try? shop.askToken("acct\(index)", sale: "crowded"))
            })
        let seconds = Date().timeIntervalSince(started)
        let issued = outcomes.all.values.filter { $0.status == 200 }.count
        let limited = outcomes.all.values.filter { $0.status == 429 && $0.code == "rate_limited" }.count
        // A burst of 10, then 10 a second: never more over the time the crowd took.
        #expect(
            issued >= 10 && issued <= 10 + Int((10 * seconds).rounded(.up)), "\(outcomes.histogram) in \(seconds) s")
        #expect(issued + limited == 200, "\(outcomes.histogram)")
        #expect(try shop.slot(sale).count(.rejectedRateLimited) == Int64(limited))
    }

    /// The captcha through lighttpd: a question, a pass for the right answer, the token it
    /// buys, and the same pass refused the second time.
    @Test func aPassFromTheCaptchaFunctionBuysOneTokenOnce() throws {
        let shop = try LiveShop()
        _ = try shop.desk.create(
            NewSale(
                id: "quiz", title: "Quiz", price: 100, stock: 5, startsAt: LiveShop.now(), endsAt: nil,
                captcha: .question, questions: [SaleQuestion(question: "Two and two?", answer: "four")]),
            nowMs: LiveShop.now())
        let asked = try shop.request("GET", "/api/captcha?sale=quiz", user: "ann")
        #expect(asked.status == 200 && asked.headers["cache-control"] == "no-store")
        let challenge = try #require(try asked.json()["challenge"] as? String)
        #expect(try asked.json()["question"] as? String == "Two and two?")
        let verified = try shop.request(
            "POST", "/api/captcha/verify", user: "ann", body: #"{"challenge":"\#(challenge)","answer":"Four"}"#)
        let pass = try #require(try verified.json()["pass"] as? String)
        let body = #"{"sale":"quiz","pass":"\#(pass)"}"#
        #expect(
            try shop.request("POST", "/api/token", user: "ann", body: #"{"sale":"quiz"}"#).errorCode
                == "captcha_required")
        #expect(try shop.request("POST", "/api/token", user: "ann", body: body).status == 200)
        let replayed = try shop.request("POST", "/api/token", user: "ann", body: body)
        #expect(replayed.status == 403 && replayed.errorCode == "captcha_failed")
    }
}
