import FastCGI
import Foundation
import Identity
import Segment
import Synchronization
import TestSupport
import Testing

@testable import Buying

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
        shop.advanceToNextWindow(of: "hot")

        for user in ["a", "b", "c", "d"] {
            #expect(try shop.askToken(user, sale: "hot").status == .ok)
        }
        let busy = try shop.askToken("e", sale: "hot")
        #expect(busy.status == .serviceUnavailable && busy.errorCode == "busy")
        // Until the window ends, plus up to its jitter span: the boundary is not given away.
        let windows = shop.context.windows
        let left = windows.start(of: shop.window(of: "hot") + 1, sale: "hot") - shop.clock.ms
        let retryAfter = try #require(busy.headers[.retryAfter].flatMap { Int64($0) })
        #expect((left + 999) / 1000 <= retryAfter && retryAfter <= (left + windows.jitterSpanMs + 999) / 1000)
        #expect(shop.askPrecheck("hot").text == #"{"ok":false,"reason":"busy"}"#)

        shop.advanceToNextWindow(of: "hot")
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
        shop.advanceToNextWindow(of: "hot")
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

    /// One admission per account per window in every process: a second context on the same
    /// data directory is a second token process, and the account it already saw counts once.
    @Test func anAccountIsAdmittedOncePerWindowAcrossProcesses() throws {
        let shop = try Shop(admissionMultiple: 1)
        try shop.createSale("hot", stock: 2)
        let clock = shop.clock
        let other = try BuyingContext(settings: shop.context.settings) { clock.ms }
        let otherToken = TokenFunction.function(other)

        #expect(try shop.askToken("alice", sale: "hot").status == .ok)
        #expect(try shop.askToken("alice", sale: "hot", via: otherToken).status == .ok)
        #expect(try shop.askToken("bob", sale: "hot", via: otherToken).status == .ok)
        let full = try shop.askToken("carol", sale: "hot")
        #expect(full.errorCode == "busy" && full.text.contains("too many buyers"))
        #expect(try shop.askToken("alice", sale: "hot").status == .ok)
        let state = try shop.state(of: "hot")
        #expect(state.slot.count(.admissions) == 2 && state.slot.count(.rejectedBusy) == 1)
    }

    /// An account let in and not ordering sits out the next window, in every process; one
    /// refused because the window was full does not, and one that ordered is told so.
    @Test func anAdmissionNotOrderedWithCostsTheNextWindow() throws {
        let shop = try Shop(admissionMultiple: 1)
        try shop.createSale("hot", stock: 2)
        let clock = shop.clock
        let otherToken = TokenFunction.function(try BuyingContext(settings: shop.context.settings) { clock.ms })
        shop.advanceToNextWindow(of: "hot")
        #expect(try shop.askToken("bot", sale: "hot").status == .ok)
        #expect(try shop.buy("alice", sale: "hot").status == .created)
        #expect(try shop.askToken("bot", sale: "hot", via: otherToken).status == .ok)  // a repeat in its window
        #expect(try shop.askToken("carol", sale: "hot").errorCode == "busy")  // 1 unit left, 1 holder

        shop.advanceToNextWindow(of: "hot")
        for token in [shop.token, otherToken] {
            let resting = try shop.askToken("bot", sale: "hot", via: token)
            #expect(resting.status == .serviceUnavailable && resting.errorCode == "busy")
            #expect(resting.text.contains("did not order"), "\(resting.text)")
            let left = shop.context.windows.start(of: shop.window(of: "hot") + 1, sale: "hot") - shop.clock.ms
            let retryAfter = try #require(resting.headers[.retryAfter].flatMap { Int64($0) })
            #expect((left + 999) / 1000 <= retryAfter)
        }
        #expect(try shop.askToken("alice", sale: "hot").errorCode == "already_ordered")
        #expect(try shop.askToken("carol", sale: "hot", via: otherToken).status == .ok)

        shop.advanceToNextWindow(of: "hot")  // its first millisecond: the rest is over, to the tick
        #expect(try shop.askToken("bot", sale: "hot").status == .ok)
        #expect(try shop.askToken("carol", sale: "hot").errorCode == "busy")  // resting now
        #expect(try shop.state(of: "hot").slot.count(.admissions) == 4)
    }

    /// A rest lasts to the end of the next window, not a millisecond less nor more, whatever
    /// the moment of the admission on the lease table's 16 ms ticks: a script looping just
    /// before the boundary does not get in early, and a buyer at the boundary is not told to
    /// wait out a whole window. (Rounded to ticks, it ended up to 15 ms early, then 31 ms late.)
    @Test func aRestEndsExactlyWhenTheNextWindowDoes() throws {
        let shop = try Shop(admissionMultiple: 1)
        try shop.createSale("hot", stock: 20)
        shop.advanceToNextWindow(of: "hot")
        let window = shop.window(of: "hot")
        for index in 0..<16 {
            shop.clock.advance(by: 1)
            #expect(try shop.askToken("bot\(index)", sale: "hot").status == .ok)
        }
        let restEnds = shop.context.windows.start(of: window + 2, sale: "hot")
        shop.clock.advance(by: restEnds - 1 - shop.clock.ms)
        for index in 0..<16 {
            #expect(try shop.askToken("bot\(index)", sale: "hot").errorCode == "busy", "bot\(index)")
        }
        shop.clock.advance(by: 1)
        for index in 0..<16 {
            #expect(try shop.askToken("bot\(index)", sale: "hot").status == .ok, "bot\(index)")
        }
    }

    /// The words that would remember an admission all hold other keys' leases: a resting
    /// account still stays out, and one not resting gets in, counted as unguarded.
    @Test func aFullTableStillKeepsARestingAccountOut() throws {
        let shop = try Shop(admissionMultiple: 1)
        try shop.createSale("hot", stock: 20)
        shop.advanceToNextWindow(of: "hot")
        #expect(try shop.askToken("bot", sale: "hot").status == .ok)
        shop.advanceToNextWindow(of: "hot")
        let window = String(shop.window(of: "hot"))
        let leases = shop.desk.segment.spentChallenges
        for user in ["bot", "carol"] {
            let key = shop.context.tableKeys.key("admitted", "hot", user, window)
            for index in 1...AccountLeases.wordsPerKey {
                let neighbour = key + UInt64(index) << 40  // the same first word, another fingerprint
                guard case .acquired = leases.acquire(neighbour, nowMs: shop.clock.ms, leaseMs: 60_000) else {
                    Issue.record("a neighbour of \(user)'s admission found no word")
                    return
                }
            }
        }
        let resting = try shop.askToken("bot", sale: "hot")
        #expect(resting.errorCode == "busy" && resting.text.contains("did not order"), "\(resting.text)")
        #expect(try shop.askToken("carol", sale: "hot").status == .ok)
        let slot = try shop.state(of: "hot").slot
        #expect(slot.count(.admissions) == 2 && slot.count(.unguardedTableFull) == 1)
    }

    /// Other keys' claims fighting over the words an admission would take: the ledger says
    /// `contended` and counts nothing, never `again`, which would hand out a token never counted.
    @Test func anAdmissionOutFoughtForItsWordIsContendedNeverAgain() throws {
        let shop = try Shop()
        try shop.createSale("hot", stock: 20)
        let window = shop.window(of: "hot")
        let key = shop.context.tableKeys.key("admitted", "hot", "bot", String(window))
        let now = shop.clock.ms
        let done = Atomic<Bool>(false)
        let again = Tally()
        let contended = Tally()
        let counted = Tally()
        struct Refused: Error {}
        #expect(
            onThreads(8) { index in
                let leases = shop.desk.segment.spentChallenges
                guard index == 0 else {
                    for _ in 0..<20_000_000 where !done.load(ordering: .relaxed) {
                        let neighbour = key + UInt64(index) << 40
                        if case .acquired(let lease) = leases.acquire(neighbour, nowMs: now, leaseMs: 60_000) {
                            leases.release(lease)
                        }
                    }
                    return
                }
                defer { done.store(true, ordering: .relaxed) }
                let ledger = AdmissionLedger(
                    leases: shop.desk.segment.spentChallenges, keys: shop.context.tableKeys,
                    windows: shop.context.windows)
                for _ in 0..<20_000 {
                    // Counted, then refused by the window: the ledger gives its claim back.
                    let entry = try? ledger.admit("bot", sale: "hot", window: window, nowMs: now) {
                        counted.add(1)
                        throw Refused()
                    }
                    if entry == .again { again.add(1) }
                    if entry == .contended { contended.add(1) }
                }
            })
        #expect(again.value == 0)
        #expect(counted.value + contended.value == 20_000, "\(contended.value) contended")
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
