import Buying
import Challenges
import FastCGI
import Foundation
import HTTPTypes
import Identity
import Sales
import Store
import Testing

@Suite struct CaptchaFunctionTests {
    static let questions = [SaleQuestion(question: "What colour is the sky?", answer: "Blue")]

    func ask(_ shop: Shop, _ user: String, sale: String) throws -> Response {
        shop.call(
            shop.captcha,
            Request(
                method: .get, path: "/api/captcha", query: Query([.init(name: "sale", value: sale)]),
                headers: try shop.headers(user)))
    }

    func answer(_ shop: Shop, _ user: String, challenge: String, with answer: String) throws -> Response {
        let body = try JSONSerialization.data(withJSONObject: ["challenge": challenge, "answer": answer])
        return shop.call(
            shop.captcha,
            Request(method: .post, path: "/api/captcha/verify", headers: try shop.headers(user), body: Array(body)))
    }

    func token(_ shop: Shop, _ user: String, sale: String, pass: String?) throws -> Response {
        var object: [String: Any] = ["sale": sale]
        object["pass"] = pass
        let body = try JSONSerialization.data(withJSONObject: object)
        return shop.call(
            shop.token, Request(method: .post, path: "/api/token", headers: try shop.headers(user), body: Array(body)))
    }

    /// A pass for `user`, from a question challenge answered right.
    func pass(_ shop: Shop, _ user: String, sale: String) throws -> String {
        let body = try ask(shop, user, sale: sale).jsonObject
        let challenge = try #require(body["challenge"] as? String)
        let solution = try solve(shop, challenge: challenge, question: try #require(body["question"] as? String))
        return try #require(try answer(shop, user, challenge: challenge, with: solution).jsonObject["pass"] as? String)
    }

    /// The answer to a question challenge, found as only the secret's holder can: a generated
    /// question's answer is a number up to 200 or a word of the question, an operator's is one
    /// of theirs, and the challenge's digest tells which.
    func solve(_ shop: Shop, challenge: String, question: String) throws -> String {
        let claims = try shop.orderSigner.verify(challenge, as: CaptchaClaims.self)
        let digests = AnswerDigest(secret: try shop.data.keyBytes(shop.data.secretKey))
        let words = question.split { !$0.isLetter && $0 != "-" }.map(String.init)
        let candidates = (0...200).map(String.init) + words + Self.questions.map(\.answer)
        return try #require(
            candidates.first { digests.matches(claims.digest ?? "", challenge: claims.jti, answer: $0) })
    }

    @Test func anImageChallengeHoldsNoTextAndOnlyItsCodeEarnsAPass() throws {
        let shop = try Shop()
        try shop.createSale("mug", stock: 5, captcha: .image)
        let asked = try ask(shop, "ann", sale: "mug")
        #expect(asked.status == .ok && asked.headers[.cacheControl] == "no-store")
        let body = asked.jsonObject
        let image = try #require(body["image"] as? String)
        #expect(image.hasPrefix("data:image/svg+xml;base64,"))
        let svg = String(decoding: Data(base64Encoded: String(image.dropFirst(26)))!, as: UTF8.self)
        #expect(svg.hasPrefix("<svg ") && !svg.contains("<text") && !svg.contains("font"))
        let elements = Set(svg.matches(of: #/<([a-z]+)/#).map { String($0.output.1) })
        #expect(elements == ["svg", "rect", "path"])
        // Digits and clutter alike: one colour, one path of polyline pieces.
        #expect(Set(svg.matches(of: #/stroke="([^"]+)"/#).map { String($0.output.1) }) == ["#1a1a2e"])
        #expect(svg.matches(of: #/d="(M[0-9. -]+L[0-9. -]+)+"/#).count == svg.matches(of: #/<path/#).count)
        // The challenge's claims hold a digest, not the code: only the secret finds the code.
        let challenge = try #require(body["challenge"] as? String)
        let claims = try shop.orderSigner.verify(challenge, as: CaptchaClaims.self)
        let digests = AnswerDigest(secret: try shop.data.keyBytes(shop.data.secretKey))
        let codes = (0..<100_000).map { String(format: "%05d", $0) }
        let solution = try #require(
            codes.first { digests.matches(claims.digest ?? "", challenge: claims.jti, answer: $0) })
        // No claim of the challenge holds the code.
        let payload = try #require(challenge.split(separator: ".").dropFirst().first)
        let padded =
            payload.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            + String(repeating: "=", count: (4 - payload.count % 4) % 4)
        let decoded = try #require(Data(base64Encoded: padded))
        let values = (try JSONSerialization.jsonObject(with: decoded) as? [String: Any] ?? [:]).values.map { "\($0)" }
        #expect(!values.contains { $0.contains(solution) })
        let passed = try answer(shop, "ann", challenge: challenge, with: solution)
        #expect(passed.status == .ok)
        #expect(passed.jsonObject["pass"] is String)
    }

    @Test func aQuestionIsAnsweredOncePerChallengeAndWrongAnswersFail() throws {
        let shop = try Shop()
        try shop.createSale("mug", stock: 5, captcha: .question, questions: Self.questions)
        let body = try ask(shop, "ann", sale: "mug").jsonObject
        let question = try #require(body["question"] as? String)
        #expect(body["image"] == nil)
        let challenge = try #require(body["challenge"] as? String)
        let solution = try solve(shop, challenge: challenge, question: question)
        let wrong = try answer(shop, "ann", challenge: challenge, with: "not \(solution)")
        #expect(wrong.status == .forbidden)
        #expect(wrong.errorCode == "captcha_failed")
        // The same challenge cannot be tried again, even with the right answer.
        #expect(try answer(shop, "ann", challenge: challenge, with: solution).errorCode == "captcha_failed")
        let anotherBody = try ask(shop, "ann", sale: "mug").jsonObject
        let another = try #require(anotherBody["challenge"] as? String)
        let anotherSolution = try solve(
            shop, challenge: another, question: try #require(anotherBody["question"] as? String))
        #expect(try answer(shop, "bob", challenge: another, with: anotherSolution).status == .forbidden)  // not bob's
        #expect(try answer(shop, "ann", challenge: another, with: "  \(anotherSolution.uppercased()) ").status == .ok)
        #expect(try shop.state(of: "mug").slot.count(.rejectedCaptcha) == 3)
    }

    @Test func theTokenWantsAPassAndTakesEachOnce() throws {
        let shop = try Shop()
        try shop.createSale("mug", stock: 5, captcha: .question, questions: Self.questions)
        try shop.createSale("lamp", stock: 5, captcha: .question, questions: Self.questions)
        #expect(try token(shop, "ann", sale: "mug", pass: nil).errorCode == "captcha_required")
        #expect(try shop.state(of: "mug").slot.count(.rejectedCaptchaRequired) == 1)
        let pass = try pass(shop, "ann", sale: "mug")
        #expect(try token(shop, "bob", sale: "mug", pass: pass).errorCode == "captcha_failed")  // another user's
        #expect(try token(shop, "ann", sale: "lamp", pass: pass).errorCode == "captcha_failed")  // another sale's
        let issued = try token(shop, "ann", sale: "mug", pass: pass)
        #expect(issued.status == .ok)
        #expect(try token(shop, "ann", sale: "mug", pass: pass).errorCode == "captcha_failed")  // replayed
        let forged = try TokenSigner(secret: Array(repeating: 9, count: 32)).sign(
            CaptchaClaims(kind: .pass, user: "ann", sale: "mug", id: "x1", expires: Date() + 60))
        #expect(try token(shop, "ann", sale: "mug", pass: forged).errorCode == "captcha_failed")
        let challenge = try #require(try ask(shop, "ann", sale: "mug").jsonObject["challenge"] as? String)
        #expect(try token(shop, "ann", sale: "mug", pass: challenge).errorCode == "captcha_failed")  // not a pass
        // A pass is no order token, though signed with the same secret.
        let fresh = try self.pass(shop, "cat", sale: "mug")
        let url = OrderFunction.orderPath(secret: try shop.state(of: "mug").sale.secret)
        #expect(try shop.placeOrder("cat", path: url, sale: "mug", token: fresh).errorCode == "invalid_token")
    }

    @Test func anExpiredPassFails() throws {
        let shop = try Shop()
        try shop.createSale("mug", stock: 5, captcha: .question, questions: Self.questions)
        let expired = try shop.orderSigner.sign(
            CaptchaClaims(kind: .pass, user: "ann", sale: "mug", id: "p1", expires: Date() - 1))
        let refused = try token(shop, "ann", sale: "mug", pass: expired)
        #expect(refused.errorCode == "captcha_failed")
        #expect(refused.jsonObject.description.contains("expired"))
    }

    @Test func anExpiredOrForgedChallengeFails() throws {
        let shop = try Shop()
        try shop.createSale("mug", stock: 5, captcha: .question, questions: Self.questions)
        let digest = AnswerDigest(secret: try shop.data.keyBytes(shop.data.secretKey)).digest(
            challenge: "c1", answer: "blue")
        let expired = try shop.orderSigner.sign(
            CaptchaClaims(kind: .challenge, user: "ann", sale: "mug", id: "c1", expires: Date() - 1, digest: digest))
        let refused = try answer(shop, "ann", challenge: expired, with: "blue")
        #expect(refused.errorCode == "captcha_failed")
        #expect(refused.jsonObject.description.contains("expired"))
        let forged = try TokenSigner(secret: Array(repeating: 5, count: 32)).sign(
            CaptchaClaims(kind: .challenge, user: "ann", sale: "mug", id: "c2", expires: Date() + 60, digest: digest))
        #expect(try answer(shop, "ann", challenge: forged, with: "blue").errorCode == "captcha_failed")
    }

    /// A token refused after the pass was checked (here: the admission window is full) gives
    /// the pass back, so the buyer does not solve another captcha to retry.
    @Test func aRefusedTokenLeavesThePassUnspent() throws {
        let shop = try Shop(admissionMultiple: 1)
        try shop.createSale("mug", stock: 1, captcha: .question, questions: Self.questions)
        // Two seconds before a window ends, so that the next one starts while bob's pass lasts
        // (window boundaries are jittered: 30 s on may still be this window, or past the pass).
        shop.advanceToEndOfNextWindow(of: "mug", leftMs: 2_000)
        #expect(try token(shop, "ann", sale: "mug", pass: try pass(shop, "ann", sale: "mug")).status == .ok)
        let bobs = try pass(shop, "bob", sale: "mug")
        #expect(try token(shop, "bob", sale: "mug", pass: bobs).errorCode == "busy")
        shop.advanceToNextWindow(of: "mug")
        let again = try token(shop, "bob", sale: "mug", pass: bobs)
        #expect(again.status == .ok, "\(again.text)")
    }

    /// A script must not collect passes while people wait for the start.
    @Test func oneAccountGetsTwoChallengesASecondFromAnyAddress() throws {
        let shop = try Shop()
        try shop.createSale("mug", stock: 5, captcha: .image)
        #expect(try ask(shop, "ann", sale: "mug").status == .ok)
        #expect(try ask(shop, "ann", sale: "mug").status == .ok)
        let third = try ask(shop, "ann", sale: "mug")
        #expect(third.status == .tooManyRequests && third.errorCode == "rate_limited")
        #expect(third.headers[.retryAfter] == "1")
        // Another account is not held back by ann's.
        #expect(try ask(shop, "bob", sale: "mug").status == .ok)
        shop.clock.advance(by: 1_000)
        #expect(try ask(shop, "ann", sale: "mug").status == .ok)
    }

    @Test func noChallengeBeforeTheSaleOpens() throws {
        let shop = try Shop()
        try shop.createSale("later", stock: 5, startsInMs: 60_000, captcha: .question, questions: Self.questions)
        let early = try ask(shop, "ann", sale: "later")
        #expect(early.status == .tooEarly)
        #expect(early.errorCode == "not_started")
        shop.clock.advance(by: 60_000)
        #expect(try ask(shop, "ann", sale: "later").status == .ok)
    }

    @Test func aSaleWithoutACaptchaOrAnUnknownSaleHasNoChallenge() throws {
        let shop = try Shop()
        try shop.createSale("plain", stock: 5)
        #expect(try ask(shop, "ann", sale: "plain").status == .notFound)
        #expect(try ask(shop, "ann", sale: "nope").status == .notFound)
        #expect(try token(shop, "ann", sale: "plain", pass: nil).status == .ok)
    }
}
