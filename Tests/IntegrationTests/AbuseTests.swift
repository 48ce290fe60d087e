import Challenges
import Foundation
import Identity
import Sales
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
        // What an operator sees.
        let status = try FlashsaleCommand.run("status --data \"\(shop.host.data.path)\"")
        let row = try #require(status.stdout.split(separator: "\n").last { $0.hasPrefix("crowded ") })
        let header = try #require(status.stdout.split(separator: "\n").first { $0.hasPrefix("SALE ") })
        let columns = header.split(separator: " ").map(String.init)
        let column = try #require(columns.firstIndex(of: "REJECTEDRATELIMITED"))
        #expect(row.split(separator: " ")[column] == "\(limited)", "\(status.stdout)")
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
        let question = try #require(try asked.json()["question"] as? String)
        let solution = try shop.solve(challenge: challenge, question: question, own: ["four"])
        let verified = try shop.request(
            "POST", "/api/captcha/verify", user: "ann",
            body: #"{"challenge":"\#(challenge)","answer":" \#(solution.uppercased())"}"#)
        let pass = try #require(try verified.json()["pass"] as? String)
        let body = #"{"sale":"quiz","pass":"\#(pass)"}"#
        #expect(
            try shop.request("POST", "/api/token", user: "ann", body: #"{"sale":"quiz"}"#).errorCode
                == "captcha_required")
        #expect(try shop.request("POST", "/api/token", user: "ann", body: body).status == 200)
        let replayed = try shop.request("POST", "/api/token", user: "ann", body: body)
        #expect(replayed.status == 403 && replayed.errorCode == "captcha_failed")
    }

    /// Honest buyers, each from a network of their own behind a trusted proxy, and a bot
    /// hammering from one address with many accounts: every honest buyer gets an order, the
    /// bot no more than its address's rate allows.
    @Test func honestBuyersStillGetTheirOrdersBesideABot() throws {
        let shop = try LiveShop(environment: ["FLASHSALE_TRUSTED_PROXIES": "127.0.0.1"])
        let sale = try shop.createSale("fair", stock: 40, perIPRate: 2)
        let honest = Outcomes()
        let bot = Outcomes()
        let started = Date()
        #expect(
            crowd(420, threads: 24) { index in
                if index % 21 == 0 {
                    let buyer = "honest\(index / 21)"
                    honest.record(
                        buyer,
                        try? shop.buy(buyer, sale: "fair", headers: ["X-Forwarded-For": "2001:db8:\(index / 21)::1"]))
                } else {
                    bot.record(
                        "bot\(index)",
                        try? shop.buy("bot\(index)", sale: "fair", headers: ["X-Forwarded-For": "203.0.113.66"]))
                }
            })
        let seconds = Date().timeIntervalSince(started)
        #expect(honest.created.count == 20, "honest: \(honest.histogram)")
        // The bot's tokens and orders share its address's 2 a second (a burst of 2).
        #expect(bot.created.count <= 2 + Int((2 * seconds).rounded(.up)), "bot: \(bot.histogram) in \(seconds) s")
        let (truth, orders) = try shop.truth("fair")
        #expect(orders.count == honest.created.count + bot.created.count && truth.remaining == 40 - Int64(orders.count))
        #expect(try shop.slot(sale).count(.rejectedRateLimited) > 0)
    }

    /// Every other losing pattern, through lighttpd: a forged challenge, a wrong answer,
    /// another user's pass, an account below the sale's level, a forged proof of work.
    @Test func forgedAndBorrowedChallengesAndLowAccountsLose() throws {
        let shop = try LiveShop()
        _ = try shop.desk.create(
            NewSale(
                id: "guarded", title: "G", price: 100, stock: 5, startsAt: LiveShop.now(), endsAt: nil, minLevel: 2,
                captcha: .question, questions: [SaleQuestion(question: "Two and two?", answer: "four")], powBits: 4),
            nowMs: LiveShop.now())
        let challenge = { (user: String) throws -> (challenge: String, solution: String) in
            let asked = try shop.request("GET", "/api/captcha?sale=guarded", user: user).json()
            let challenge = try #require(asked["challenge"] as? String)
            let question = try #require(asked["question"] as? String)
            return (challenge, try shop.solve(challenge: challenge, question: question, own: ["four"]))
        }
        let verify = { (user: String, challenge: String, answer: String) throws -> HTTPAnswer in
            try shop.request(
                "POST", "/api/captcha/verify", user: user,
                body: #"{"challenge":"\#(challenge)","answer":"\#(answer)"}"#)
        }
        let forged = try TokenSigner(secret: Array(repeating: 1, count: 32)).sign(
            CaptchaClaims(kind: .challenge, user: "ann", sale: "guarded", id: "c1", expires: Date() + 60, digest: "x"))
        #expect(try verify("ann", forged, "four").errorCode == "captcha_failed")
        let wronglyAnswered = try challenge("ann")
        #expect(
            try verify("ann", wronglyAnswered.challenge, "not \(wronglyAnswered.solution)").errorCode
                == "captcha_failed")
        let answered = try challenge("ann")
        let pass = try #require(try verify("ann", answered.challenge, answered.solution).json()["pass"] as? String)
        let nonce = try #require(try shop.request("GET", "/api/captcha/pow?sale=guarded").json()["nonce"] as? String)
        let counter = (0...).first { ProofOfWork.solves(nonce: nonce, counter: "\($0)", bits: 4) }!
        let token = { (user: String, level: Int?, pass: String, counter: Int) throws -> HTTPAnswer in
            let identity = try shop.identitySigner.sign(UserClaims(user: user, expires: Date() + 600, level: level))
            return try HTTPClient.request(
                port: shop.host.port, method: "POST", target: "/api/token",
                headers: ["Authorization": "Bearer \(identity)"],
                body: Array(
                    #"{"sale":"guarded","pass":"\#(pass)","pow":{"nonce":"\#(nonce)","counter":"\#(counter)"}}"#.utf8))
        }
        let unsolved = (0...).first { !ProofOfWork.solves(nonce: nonce, counter: "\($0)", bits: 4) }!
        #expect(try token("ann", 2, pass, unsolved).errorCode == "captcha_failed")  // forged proof of work
        #expect(try token("bob", 2, pass, counter).errorCode == "captcha_failed")  // ann's pass
        let second = ((counter + 1)...).first { ProofOfWork.solves(nonce: nonce, counter: "\($0)", bits: 4) }!
        let low = try token("ann", 1, pass, second)
        #expect(low.status == 403 && low.errorCode == "forbidden")
        let third = ((second + 1)...).first { ProofOfWork.solves(nonce: nonce, counter: "\($0)", bits: 4) }!
        // What every check let through buys: ann's token orders, and hers is the one order.
        let won = try token("ann", 2, pass, third)
        try #require(won.status == 200, "\(won.text)")
        let url = try #require(try won.json()["orderUrl"] as? String)
        let orderToken = try #require(try won.json()["token"] as? String)
        let identity = try shop.identitySigner.sign(UserClaims(user: "ann", expires: Date() + 600, level: 2))
        let order = try HTTPClient.request(
            port: shop.host.port, method: "POST", target: url, headers: ["Authorization": "Bearer \(identity)"],
            body: Array(#"{"sale":"guarded","token":"\#(orderToken)"}"#.utf8))
        #expect(order.status == 201, "\(order.text)")
        let (sale, orders) = try shop.truth("guarded")
        #expect(orders.map(\.user) == ["ann"] && sale.remaining == 4)
    }
}
