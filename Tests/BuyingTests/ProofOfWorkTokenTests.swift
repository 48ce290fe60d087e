import Buying
import FastCGI
import Foundation
import Testing

@testable import Challenges

@Suite struct ProofOfWorkTokenTests {

    func token(_ shop: Shop, _ user: String, nonce: String?, counter: String) throws -> Response {
        var object: [String: Any] = ["sale": "mug"]
        if let nonce { object["pow"] = ["nonce": nonce, "counter": counter] }
        let body = try JSONSerialization.data(withJSONObject: object)
        return shop.call(
            shop.token, Request(method: .post, path: "/api/token", headers: try shop.headers(user), body: Array(body)))
    }

    func task(_ shop: Shop, sale: String = "mug") throws -> Response {
        shop.call(
            shop.captcha,
            Request(method: .get, path: "/api/captcha/pow", query: Query([.init(name: "sale", value: sale)])))
    }

    func solve(_ nonce: String, bits: Int, from start: Int = 0) -> String {
        String((start...).first { ProofOfWork.solves(nonce: nonce, counter: "\($0)", bits: bits) }!)
    }

    @Test func eachTokenCostsASolutionOfItsOwn() throws {
        let shop = try Shop()
        try shop.createSale("mug", stock: 5, powBits: 8)
        let work = try task(shop).jsonObject
        #expect(work["bits"] as? Int == 8)
        let nonce = try #require(work["nonce"] as? String)
        #expect(try token(shop, "ann", nonce: nil, counter: "").errorCode == "captcha_required")
        let solution = solve(nonce, bits: 8)
        let unsolved = (0...).first { !ProofOfWork.solves(nonce: nonce, counter: "\($0)", bits: 8) }!
        #expect(try token(shop, "ann", nonce: nonce, counter: "\(unsolved)").errorCode == "captcha_failed")
        #expect(try token(shop, "ann", nonce: nonce, counter: "1e3").errorCode == "captcha_failed")
        #expect(try token(shop, "ann", nonce: nonce, counter: solution).status == .ok)
        // Sent again, by anyone, a solution is refused: a script pays for every attempt.
        let replayed = try token(shop, "bob", nonce: nonce, counter: solution)
        #expect(replayed.errorCode == "captcha_failed")
        #expect(
            try token(shop, "bob", nonce: nonce, counter: solve(nonce, bits: 8, from: Int(solution)! + 1)).status == .ok
        )
    }

    @Test func aNonceTwoWindowsOldIsRefused() throws {
        let shop = try Shop()
        try shop.createSale("mug", stock: 5, powBits: 4)
        let nonce = try #require(try task(shop).jsonObject["nonce"] as? String)
        let solution = solve(nonce, bits: 4)
        shop.clock.advance(by: 2 * ProofOfWork.windowMs)
        #expect(try token(shop, "ann", nonce: nonce, counter: solution).errorCode == "captcha_failed")
        #expect(try token(shop, "ann", nonce: "forged", counter: solution).errorCode == "captcha_failed")
    }

    /// Nothing to solve before the start: 1 ms before it the task is 425 `not_started`, at it
    /// the first nonce, and a solution of a nonce from any window before the start is refused.
    @Test func theFirstNonceIsHandedOutAtTheStartAndNoneBefore() throws {
        let shop = try Shop()
        let sale = try shop.createSale("mug", stock: 5, startsInMs: 60_000, powBits: 4)
        shop.clock.advance(by: 60_000 - 1)
        let early = try task(shop)
        #expect(early.status == .tooEarly && early.errorCode == "not_started")

        shop.clock.advance(by: 1)
        let work = try task(shop).jsonObject
        let nonce = try #require(work["nonce"] as? String)
        #expect(work["expiresAt"] as? Int64 == sale.startsAt + 2 * ProofOfWork.windowMs)
        let secret = try shop.data.keyBytes(shop.data.secretKey)
        for window in Int64(-3)...(-1) {
            let before = ProofOfWork(secret: secret).nonce(sale: "mug", startMs: sale.startsAt, window: window)
            let refused = try token(shop, "ann", nonce: before, counter: solve(before, bits: 4))
            #expect(refused.status == .forbidden && refused.errorCode == "captcha_failed", "window \(window)")
        }
        #expect(try token(shop, "ann", nonce: nonce, counter: solve(nonce, bits: 4)).status == .ok)
    }

    @Test func aSaleWithoutProofOfWorkHasNoTaskAndAsksNone() throws {
        let shop = try Shop()
        try shop.createSale("mug", stock: 5)
        #expect(try task(shop).status == .notFound)
        #expect(try token(shop, "ann", nonce: nil, counter: "").status == .ok)
    }
}
