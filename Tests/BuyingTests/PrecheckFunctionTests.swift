import Buying
import FastCGI
import Foundation
import Testing

@Suite struct PrecheckFunctionTests {
    @Test func itAnswersEveryPhaseOfASale() throws {
        let shop = try Shop()
        try shop.createSale("later", stock: 2, startsInMs: 5_000, endsInMs: 10_000)
        try shop.createSale("tiny", stock: 1)

        #expect(shop.askPrecheck("later").text == #"{"ok":false,"reason":"not_started"}"#)
        #expect(shop.askPrecheck("tiny").text == #"{"ok":true}"#)
        #expect(shop.askPrecheck("nope").text == #"{"ok":false,"reason":"unknown_sale"}"#)
        #expect(try shop.buy("alice", sale: "tiny").status == .created)
        #expect(shop.askPrecheck("tiny").text == #"{"ok":false,"reason":"sold_out"}"#)
        shop.clock.advance(by: 5_000)
        #expect(shop.askPrecheck("later").text == #"{"ok":true}"#)
        shop.clock.advance(by: 5_000)
        #expect(shop.askPrecheck("later").text == #"{"ok":false,"reason":"ended"}"#)
    }

    @Test func everyAnswerIsJSONThatNeverIsCached() throws {
        let shop = try Shop()
        try shop.createSale("tiny", stock: 1)
        for sale in ["tiny", "nope"] {
            let answer = shop.askPrecheck(sale)
            #expect(answer.status == .ok && answer.headers[.cacheControl] == "no-store")
            #expect(try JSONSerialization.jsonObject(with: Data(answer.body)) is [String: Any])
        }
    }

    @Test func aSaleCreatedAfterTheProcessStartedIsFoundWithinASecond() throws {
        let shop = try Shop()
        #expect(shop.askPrecheck("new").text == #"{"ok":false,"reason":"unknown_sale"}"#)
        try shop.createSale("new", stock: 1)
        // Unknown keys send precheck back to the segment at most once a second.
        shop.clock.advance(by: 1_000)
        #expect(shop.askPrecheck("new").text == #"{"ok":true}"#)
    }

    @Test func aMissingSaleIsABadRequest() throws {
        let shop = try Shop()
        let answer = shop.call(shop.precheck, Request(method: .get, path: "/api/precheck"))
        #expect(answer.status == .badRequest && answer.errorCode == "bad_request")
    }

    @Test func aStaleSoldOutFlagIsReconciledWithoutAnyOtherRequest() throws {
        let shop = try Shop(reconcileIntervalMs: 2_000)
        try shop.createSale("tiny", stock: 1)
        // A process took the last unit from the segment and died before writing its order.
        #expect(try shop.state(of: "tiny").slot.takeOne())
        #expect(shop.askPrecheck("tiny").text == #"{"ok":false,"reason":"sold_out"}"#)

        shop.clock.advance(by: 2_000)
        #expect(shop.askPrecheck("tiny").text == #"{"ok":true}"#)
    }
}
