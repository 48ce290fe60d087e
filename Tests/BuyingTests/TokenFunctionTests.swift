import Buying
import FastCGI
import Foundation
import Identity
import TestSupport
import Testing

@Suite struct TokenFunctionTests {
    @Test func beforeTheStartTheTokenIsRefusedAndNoAnswerHoldsTheSecret() throws {
        let shop = try Shop()
        let sale = try shop.createSale("early", stock: 5, startsInMs: 60_000)

        let answer = try shop.askToken("alice", sale: "early")
        #expect(answer.status == .tooEarly && answer.errorCode == "not_started")
        #expect(!answer.text.contains(sale.secret))
        #expect(!shop.askPrecheck("early").text.contains(sale.secret))
        #expect(try shop.state(of: "early").slot.count(.admissions) == 0)
    }

    @Test func onceOpenItIssuesATokenBoundToUserAndSaleAndTheOrderURL() throws {
        let shop = try Shop()
        let sale = try shop.createSale("spring", stock: 5, startsInMs: 1_000)
        shop.clock.advance(by: 1_000)

        let answer = try shop.askToken("alice", sale: "spring")
        #expect(answer.status == .ok)
        #expect(answer.headers[.cacheControl] == "no-store")
        let issued = try JSONDecoder().decode(TokenFunction.Answer.self, from: Data(answer.body))
        #expect(issued.orderUrl == "/api/order/\(sale.secret)")
        #expect(issued.expiresAt == shop.clock.ms + 30_000)
        let claims = try shop.orderSigner.verify(issued.token, as: OrderTokenClaims.self)
        #expect(claims.sub.value == "alice" && claims.sale == "spring")
        #expect(try shop.state(of: "spring").slot.count(.admissions) == 1)
    }

    @Test func aBuyerWhoOrderedGetsAlreadyOrdered() throws {
        let shop = try Shop()
        try shop.createSale("spring", stock: 5)
        #expect(try shop.buy("alice", sale: "spring").status == .created)

        let again = try shop.askToken("alice", sale: "spring")
        #expect(again.status == .conflict && again.errorCode == "already_ordered")
        #expect(try shop.askToken("bob", sale: "spring").status == .ok)
    }

    @Test func soldOutAndEndedSalesRefuse() throws {
        let shop = try Shop()
        try shop.createSale("tiny", stock: 1)
        try shop.createSale("short", stock: 5, endsInMs: 1_000)
        #expect(try shop.buy("alice", sale: "tiny").status == .created)

        let soldOut = try shop.askToken("bob", sale: "tiny")
        #expect(soldOut.status == .conflict && soldOut.errorCode == "sold_out")
        shop.clock.advance(by: 1_000)
        let ended = try shop.askToken("bob", sale: "short")
        #expect(ended.status == .conflict && ended.errorCode == "ended")
    }

    @Test func theAdmissionWindowAdmitsItsMultipleOfTheStockLeftThenSaysBusy() throws {
        let shop = try Shop(admissionMultiple: 2)
        try shop.createSale("hot", stock: 2)
        let windowStart = (shop.clock.ms / 30_000 + 1) * 30_000
        shop.clock.advance(by: windowStart - shop.clock.ms)

        for user in ["a", "b", "c", "d"] {
            #expect(try shop.askToken(user, sale: "hot").status == .ok)
        }
        let busy = try shop.askToken("e", sale: "hot")
        #expect(busy.status == .serviceUnavailable && busy.errorCode == "busy")
        #expect(busy.headers[.retryAfter] == "30")
        #expect(shop.askPrecheck("hot").text == #"{"ok":false,"reason":"busy"}"#)

        shop.clock.advance(by: 30_000)
        #expect(try shop.askToken("e", sale: "hot").status == .ok)
        let state = try shop.state(of: "hot")
        #expect(state.slot.count(.admissions) == 5 && state.slot.count(.rejectedBusy) == 1)
    }

    /// A window counts the buyers holding a token who have not ordered: buyers one after
    /// another, each ordering, are never told busy while units are left. (Counting every token
    /// of the window, the 8th of 10 was refused with 3 units left.)
    @Test func buyersWhoOrderedLeaveRoomInTheWindow() throws {
        let shop = try Shop(admissionMultiple: 2)
        try shop.createSale("hot", stock: 10)
        let windowStart = (shop.clock.ms / 30_000 + 1) * 30_000
        shop.clock.advance(by: windowStart - shop.clock.ms)
        for index in 0..<10 {
            let bought = try shop.buy("buyer-\(index)", sale: "hot")
            #expect(bought.status == .created, "buyer \(index): \(bought.text)")
        }
        #expect(try shop.askToken("late", sale: "hot").errorCode == "sold_out")
        #expect(try shop.state(of: "hot").orders.count == 10)
    }

    @Test func badRequestsAreRefusedWithClearErrors() throws {
        let shop = try Shop()
        try shop.createSale("spring", stock: 5)

        let anonymous = try shop.askToken(nil, sale: "spring")
        #expect(anonymous.status == .unauthorized && anonymous.errorCode == "unauthorized")
        let unknown = try shop.askToken("alice", sale: "nope")
        #expect(unknown.status == .notFound && unknown.errorCode == "not_found")
        for body in ["", "{}", "[]", #"{"sale":5}"#, "{"] {
            let answer = shop.call(
                shop.token,
                Request(method: .post, path: "/api/token", headers: try shop.headers("alice"), body: Array(body.utf8)))
            #expect(answer.status == .badRequest && answer.errorCode == "bad_request", "body \(body)")
        }
        let get = shop.call(shop.token, Request(method: .get, path: "/api/token"))
        #expect(get.status == .methodNotAllowed)
        #expect(try shop.state(of: "spring").slot.count(.admissions) == 0)
    }

    @Test func aBuyerAskingAgainInTheWindowCountsOnce() throws {
        let shop = try Shop(admissionMultiple: 1)
        try shop.createSale("hot", stock: 2)

        for _ in 0..<5 {
            #expect(try shop.askToken("alice", sale: "hot").status == .ok)
        }
        #expect(try shop.askToken("bob", sale: "hot").status == .ok)
        #expect(try shop.askToken("carol", sale: "hot").errorCode == "busy")
        #expect(try shop.state(of: "hot").slot.count(.admissions) == 2)
    }

    /// The last unit taken by an order still in flight: nothing left, the flag not yet set.
    @Test func nothingLeftWithoutTheFlagIsSoldOutNotBusy() throws {
        let shop = try Shop()
        let sale = try shop.createSale("tiny", stock: 1)
        let slot = try shop.state(of: "tiny").slot
        #expect(slot.takeOne() && slot.isSoldOut)
        // The take's own flag write is what a racing request may not see yet: clear the flags word.
        let flags = SegmentFile.slotField(sale.slot, SegmentFile.Field.flags)
        #expect(SegmentFile.overwrite(shop.data.segment, at: flags, with: [UInt8](repeating: 0, count: 8)))
        #expect(slot.remaining == 0 && !slot.isSoldOut)

        let answer = try shop.askToken("alice", sale: "tiny")
        #expect(answer.status == .conflict && answer.errorCode == "sold_out")
        #expect(shop.askPrecheck("tiny").text == #"{"ok":false,"reason":"sold_out"}"#)
    }
}
