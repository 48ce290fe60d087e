import FastCGI
import Foundation
import Identity
import Sales
import Segment
import Store
import TestSupport
import Testing

@testable import Buying

@Suite struct OrderFunctionTests {
    @Test func anOrderIsCommittedThenAnswered201AndTheStockFollows() throws {
        let shop = try Shop()
        try shop.createSale("spring", stock: 3)

        let answer = try shop.buy("alice", sale: "spring")
        #expect(answer.status == .created)
        let placed = try JSONDecoder().decode(OrderFunction.Answer.self, from: Data(answer.body))
        let state = try shop.state(of: "spring")
        #expect(state.orders.map(\.id) == [placed.orderId])
        #expect(placed.sale == "spring" && placed.user == "alice")
        #expect(state.sale.remaining == 2 && state.slot.remaining == 2)
        #expect(state.slot.count(.orders) == 1 && state.slot.count(.attempts) == 1)
    }

    @Test func aSecondOrderByTheSameUserIsRefusedBeforeAnyStockIsTaken() throws {
        let shop = try Shop()
        let sale = try shop.createSale("spring", stock: 3)
        #expect(try shop.buy("alice", sale: "spring").status == .created)

        let token = try shop.mintOrderToken(user: "alice", sale: "spring")
        let again = try shop.placeOrder("alice", path: "/api/order/\(sale.secret)", sale: "spring", token: token)
        #expect(again.status == .conflict && again.errorCode == "already_ordered")
        let state = try shop.state(of: "spring")
        #expect(state.orders.count == 1 && state.sale.remaining == 2 && state.slot.remaining == 2)
    }

    @Test func theLastUnitSellsOnceThenEveryoneHearsSoldOut() throws {
        let shop = try Shop()
        try shop.createSale("tiny", stock: 1)
        #expect(try shop.buy("alice", sale: "tiny").status == .created)

        let late = try shop.buy("bob", sale: "tiny")
        #expect(late.status == .conflict && late.errorCode == "sold_out")
        let state = try shop.state(of: "tiny")
        #expect(state.orders.map(\.user) == ["alice"] && state.sale.remaining == 0)
        #expect(state.slot.remaining == 0 && state.slot.isSoldOut)
    }

    /// Every token the function must refuse, each refused with its code and nothing changed.
    @Test func refusedTokensChangeNothing() throws {
        let shop = try Shop()
        let sale = try shop.createSale("spring", stock: 3)
        let other = try shop.createSale("summer", stock: 3)
        let path = "/api/order/\(sale.secret)"
        let forger = TokenSigner(secret: Array(repeating: 7, count: 32))
        let forged = try forger.sign(OrderTokenClaims(user: "alice", sale: "spring", expires: Date() + 60))
        let refusals: [(String, String?, String, String, Int, String)] = [
            ("forged", "alice", path, forged, 401, "invalid_token"),
            (
                "another user's", "alice", path, try shop.mintOrderToken(user: "bob", sale: "spring"), 401,
                "invalid_token"
            ),
            (
                "another sale's", "alice", path, try shop.mintOrderToken(user: "alice", sale: "summer"), 401,
                "invalid_token"
            ),
            (
                "expired", "alice", path, try shop.mintOrderToken(user: "alice", sale: "spring", expiresInSeconds: -1),
                401, "token_expired"
            ),
            ("not a token", "alice", path, "abc", 401, "invalid_token"),
            ("no identity", nil, path, try shop.mintOrderToken(user: "alice", sale: "spring"), 401, "unauthorized"),
            (
                "another sale's secret", "alice", "/api/order/\(other.secret)",
                try shop.mintOrderToken(user: "alice", sale: "spring"), 400, "bad_request"
            ),
            (
                "an unknown secret", "alice", "/api/order/\(String(repeating: "0", count: 32))",
                try shop.mintOrderToken(user: "alice", sale: "spring"), 404, "not_found"
            ),
        ]
        for (name, user, path, token, status, code) in refusals {
            let answer = try shop.placeOrder(user, path: path, sale: "spring", token: token)
            #expect(answer.status.code == status && answer.errorCode == code, "\(name): \(answer.text)")
        }
        let state = try shop.state(of: "spring")
        #expect(state.orders.isEmpty && state.sale.remaining == 3 && state.sale.version == 0)
        #expect(state.slot.remaining == 3 && state.slot.count(.orders) == 0)
        #expect(state.slot.count(.rejectedInvalidToken) == 5 && state.slot.count(.rejectedUnauthorized) == 1)
    }

    @Test func aWrongSecretIsTheSame404AsAnyUnknownPath() throws {
        let shop = try Shop()
        try shop.createSale("spring", stock: 3)
        let token = try shop.mintOrderToken(user: "alice", sale: "spring")

        let wrong = try shop.placeOrder("alice", path: "/api/order/guess", sale: "spring", token: token)
        let other = try shop.placeOrder(nil, path: "/api/order/another-guess", sale: "x", token: "")
        #expect(wrong == Response(error: Router.notFound) && other == wrong)
        #expect(!wrong.text.contains("guess"))
    }

    @Test func beforeTheStartAValidTokenStillCannotOrder() throws {
        let shop = try Shop()
        let sale = try shop.createSale("early", stock: 3, startsInMs: 60_000)
        let token = try shop.mintOrderToken(user: "alice", sale: "early")

        let answer = try shop.placeOrder("alice", path: "/api/order/\(sale.secret)", sale: "early", token: token)
        #expect(answer.status == .tooEarly && answer.errorCode == "not_started")
        #expect(!answer.text.contains(sale.secret))
        let state = try shop.state(of: "early")
        #expect(state.orders.isEmpty && state.sale.remaining == 3 && state.slot.remaining == 3)
    }

    @Test func badBodiesAreBadRequestsAndChangeNothing() throws {
        let shop = try Shop()
        let sale = try shop.createSale("spring", stock: 3)
        _ = try shop.askToken("alice", sale: "spring")  // an admission in the window, which must stay
        let before = try shop.snapshot(of: "spring")
        for body in ["", "{", #"{"sale":"spring"}"#, #"{"token":"x"}"#, #"{"sale":1,"token":"x"}"#] {
            let request = Request(
                method: .post, path: "/api/order/\(sale.secret)", headers: try shop.headers("alice"),
                body: Array(body.utf8))
            let answer = shop.call(shop.order, request)
            #expect(answer.status == .badRequest && answer.errorCode == "bad_request", "body \(body)")
        }
        #expect(try shop.snapshot(of: "spring") == before)
        #expect(before.admissionsInWindow == 1 && before.slotRemaining == 3)
    }

    @Test func whenTheDatabaseIsSoldOutFirstTheGateIsSetToZeroNotGivenBack() throws {
        let shop = try Shop()
        let sale = try shop.createSale("tiny", stock: 2)
        for user in ["x", "y"] {
            _ = try shop.desk.store.placeOrder(sale: "tiny", user: user, nowMs: shop.clock.ms)
        }
        #expect(try shop.state(of: "tiny").slot.remaining == 2)

        let token = try shop.mintOrderToken(user: "alice", sale: "tiny")
        let answer = try shop.placeOrder("alice", path: "/api/order/\(sale.secret)", sale: "tiny", token: token)
        #expect(answer.status == .conflict && answer.errorCode == "sold_out")
        let state = try shop.state(of: "tiny")
        #expect(state.orders.count == 2 && state.slot.remaining == 0 && state.slot.isSoldOut)
    }

    @Test func oneUserFiringManyOrdersAtOnceGetsExactlyOne() throws {
        let shop = try Shop()
        let sale = try shop.createSale("spring", stock: 10)
        let token = try shop.mintOrderToken(user: "alice", sale: "spring")
        let created = Tally()

        #expect(
            onThreads(16) { _ in
                let answer = try? shop.placeOrder(
                    "alice", path: "/api/order/\(sale.secret)", sale: "spring", token: token)
                created.add(answer?.status == .created ? 1 : 0)
            })

        #expect(created.value == 1)
        let state = try shop.state(of: "spring")
        #expect(state.orders.count == 1 && state.sale.remaining == 9 && state.slot.remaining == 9)
    }
}

@Suite struct SaleGateTests {
    @Test func theAdmissionLimitSaturatesInsteadOfWrapping() throws {
        let shop = try Shop()
        let sale = try shop.createSale("spring", stock: 3)
        let slot = try shop.state(of: "spring").slot
        #expect(SaleChecks.admissionLimit(slot, multiple: shop.context.settings.admissionMultiple) == 30)
        slot.reconcile(remaining: 3, nowMs: 0)
        let huge = StockTerms(
            saleKey: StockSegment.saleKey(sale.id), stock: .max, startMs: sale.startsAt, endMs: .max)
        slot.configure(huge, remaining: .max / 3, nowMs: 0)
        #expect(SaleChecks.admissionLimit(slot, multiple: shop.context.settings.admissionMultiple) == .max)
    }

    /// Another process holds the write lock past the busy timeout (5 s): the order is refused
    /// `busy`, and its unit goes back.
    @Test func aDatabaseLockedPastItsTimeoutIsBusyNotInternal() throws {
        let shop = try Shop()
        try shop.createSale("spring", stock: 3)
        let other = try Database(path: shop.data.database)
        try other.execute("BEGIN IMMEDIATE")

        let answer = try shop.buy("alice", sale: "spring")
        try other.execute("ROLLBACK")
        #expect(answer.status == .serviceUnavailable && answer.errorCode == "busy")
        #expect(answer.headers[.retryAfter] == "1")
        let state = try shop.state(of: "spring")
        #expect(state.orders.isEmpty && state.sale.remaining == 3 && state.slot.remaining == 3)
    }
}

@Suite struct BusyGateTests {
    @Test func aLongQueueIsRefusedButNeverMoreThanTheLimitInARow() {
        let gate = BusyGate(queueLimit: 4, maxRefusalsInARow: 2)
        #expect(!gate.refuses(queuedBehind: nil) && !gate.refuses(queuedBehind: 4))
        #expect(gate.refuses(queuedBehind: 5) && gate.refuses(queuedBehind: 50))
        #expect(!gate.refuses(queuedBehind: 50))
        #expect(gate.refuses(queuedBehind: 50))
        #expect(!gate.refuses(queuedBehind: 0))
        #expect(gate.refuses(queuedBehind: 9) && gate.refuses(queuedBehind: 9) && !gate.refuses(queuedBehind: 9))
    }

    @Test func anOrderBehindALongQueueIsRefusedFastAndChangesNothing() throws {
        let shop = try Shop()
        let sale = try shop.createSale("spring", stock: 3)
        let token = try shop.mintOrderToken(user: "alice", sale: "spring")
        let body = try JSONSerialization.data(withJSONObject: ["sale": "spring", "token": token])
        var request = Request(
            method: .post, path: "/api/order/\(sale.secret)", headers: try shop.headers("alice"), body: Array(body))
        request.queuedBehind = { 100 }

        for _ in 0..<shop.context.settings.orderRefusalsInARow {
            let refused = shop.call(shop.order, request)
            #expect(refused.status == .serviceUnavailable && refused.errorCode == "busy")
            #expect(refused.headers[.retryAfter] == "1")
        }
        let state = try shop.state(of: "spring")
        #expect(state.orders.isEmpty && state.sale.remaining == 3 && state.slot.remaining == 3)
        #expect(state.slot.count(.rejectedBusy) == shop.context.settings.orderRefusalsInARow)
        #expect(shop.call(shop.order, request).status == .created)
    }
}
