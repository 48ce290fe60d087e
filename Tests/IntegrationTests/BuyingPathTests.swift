import Foundation
import Hosting
import Store
import TestSupport
import Testing

/// The buying path through real lighttpd and real function processes: the invariants of a
/// sale under a crowd, process kills and a damaged segment.
@Suite struct BuyingPathTests {
    /// Checks what every sale must end with: no oversell, one order per user, every 201 a row.
    func expectConsistent(_ shop: LiveShop, _ id: String, outcomes: Outcomes) throws {
        let (sale, orders) = try shop.truth(id)
        #expect(orders.count == Int(sale.stock - sale.remaining))
        #expect(orders.count <= Int(sale.stock))
        #expect(Set(orders.map(\.user)).count == orders.count)
        let rows = Dictionary(uniqueKeysWithValues: orders.map { ($0.id, $0.user) })
        for (user, outcome) in outcomes.created {
            #expect(outcome.orderUser == user)
            #expect(outcome.orderID.flatMap { rows[$0] } == user, "the 201 for \(user) has no row")
        }
    }

    @Test func fiftyUnitsToTwoThousandBuyersSellExactlyFifty() throws {
        let shop = try LiveShop()
        try shop.createSale("race", stock: 50)
        let outcomes = Outcomes()

        #expect(crowd(2_000) { index in outcomes.record("user\(index)", try? shop.buy("user\(index)", sale: "race")) })

        let (sale, orders) = try shop.truth("race")
        #expect(orders.count == 50 && sale.remaining == 0)
        #expect(outcomes.created.count == 50)
        let others = outcomes.all.filter { $0.value.status != 201 }
        #expect(others.count == 1_950)
        #expect(
            others.allSatisfy { $0.value.status == 409 && $0.value.code == "sold_out" },
            "\(outcomes.histogram)\n\(shop.logTail)")
        try expectConsistent(shop, "race", outcomes: outcomes)
        let slot = try shop.slot(sale)
        #expect(slot.remaining == 0 && slot.isSoldOut)
    }

    @Test func oneUserFiringFiftyOrdersAtOnceGetsOne() throws {
        let shop = try LiveShop()
        try shop.createSale("greedy", stock: 10)
        let issued = try shop.askToken("greedy-user", sale: "greedy").json()
        let url = try #require(issued["orderUrl"] as? String)
        let token = try #require(issued["token"] as? String)
        let outcomes = Outcomes()

        #expect(
            crowd(50, threads: 50) { index in
                outcomes.record("try\(index)", try? shop.order("greedy-user", path: url, sale: "greedy", token: token))
            })

        // The others hear that the account has already ordered or, while another of its
        // requests runs, that it is busy: one active request per account.
        #expect(outcomes.created.count == 1)
        #expect(
            outcomes.all.values.filter { $0.status != 201 }.allSatisfy {
                ["already_ordered", "busy"].contains($0.code)
            })
        let (sale, orders) = try shop.truth("greedy")
        #expect(orders.map(\.user) == ["greedy-user"] && sale.remaining == 9)
        // A reconciliation while a refused order held its unit can leave the gate one above the
        // truth until the next one (the database refuses the extra buyer); buyers' requests
        // bring the next one within the 200 ms interval.
        let slot = try shop.slot(sale)
        #expect(
            eventually(within: 10) {
                _ = try? shop.askToken("another", sale: "greedy"); return slot.remaining == 9
            })
    }

    @Test func refusedTokensThroughTheServerChangeNothing() throws {
        let shop = try LiveShop()
        let sale = try shop.createSale("guarded", stock: 5)
        let url = "/api/order/\(sale.secret)"
        let forged = try TokenSignerFixture.forged(user: "mallory", sale: "guarded")
        let cases: [(String, String, Int, String)] = [
            ("forged", forged, 401, "invalid_token"),
            ("another user's", try shop.mintOrderToken(user: "alice", sale: "guarded"), 401, "invalid_token"),
            ("expired", try shop.mintOrderToken(user: "mallory", sale: "guarded", expiresIn: -1), 401, "token_expired"),
            ("garbage", "not-a-token", 401, "invalid_token"),
        ]
        for (name, token, status, code) in cases {
            let answer = try shop.order("mallory", path: url, sale: "guarded", token: token)
            #expect(answer.status == status && answer.errorCode == code, "\(name): \(answer.text)")
        }
        let (row, orders) = try shop.truth("guarded")
        #expect(orders.isEmpty && row.remaining == 5 && row.version == 0)
        #expect(try shop.slot(row).remaining == 5)
    }

    @Test func noAnswerHoldsTheOrderSecretBeforeTheStart() throws {
        let shop = try LiveShop()
        let sale = try shop.createSale("soon", stock: 5, startsInMs: 3_000)
        let early = try shop.mintOrderToken(user: "eve", sale: "soon")
        let answers = [
            try shop.request("GET", "/"),
            try shop.request("GET", "/robots.txt"),
            try shop.request("GET", "/api/time"),
            try shop.request("GET", "/api/precheck?sale=soon"),
            try shop.askToken("eve", sale: "soon"),
            try shop.order("eve", path: "/api/order/guess", sale: "soon", token: early),
            try shop.request("POST", "/api/order/", user: "eve"),
            try shop.request("GET", "/api/nothing"),
            try shop.request("GET", "/sale/soon/sale.js?v=1"),
        ]
        #expect(answers[4].status == 425 && answers[4].errorCode == "not_started")
        #expect(answers[5].status == 404 && answers[5].body == answers[7].body)
        #expect(answers[8].status == 200 && answers[8].text.contains("\"state\":\"scheduled\""))
        for answer in answers {
            #expect(!answer.text.contains(sale.secret))
            #expect(!answer.headers.values.contains { $0.contains(sale.secret) })
        }

        let opened = eventually(within: 20) { (try? shop.askToken("eve", sale: "soon"))?.status == 200 }
        #expect(opened)
        #expect(try shop.askToken("eve", sale: "soon").text.contains(sale.secret))
        let flag = try shop.request("GET", "/sale/soon/sale.js?v=2")
        #expect(flag.status == 200 && flag.headers["content-type"] == "text/javascript; charset=utf-8")
        #expect(flag.text.contains("\"orderUrl\":\"\\/api\\/order\\/\(sale.secret)\""))
    }

    @Test func killingOrderProcessesMidSaleLosesNoAcknowledgedOrderAndTheStockStillSells() throws {
        let shop = try LiveShop()
        let sale = try shop.createSale("crash", stock: 120)
        let outcomes = Outcomes()
        let sold = { (try? shop.desk.store.sale("crash"))?.map { $0.stock - $0.remaining } ?? 0 }

        let buyers = Thread {
            _ = crowd(600, threads: 16) { index in
                outcomes.record("b\(index)", try? shop.buyRetrying("b\(index)", sale: "crash"))
            }
        }
        buyers.start()
        for threshold: Int64 in [10, 40, 70] {
            #expect(eventually(within: 60) { sold() >= threshold }, "sold \(sold()); \(outcomes.histogram)")
            // lighttpd starts the replacements of killed processes on its own schedule: wait for them.
            var pids: [pid_t] = []
            #expect(
                eventually(within: 30) {
                    pids = shop.host.functionPIDs("order")
                    return !pids.isEmpty
                }, "sold \(sold()); no order process\n\(shop.logTail)")
            for pid in pids { kill(pid, SIGKILL) }
        }
        // A process killed between taking a unit and writing the order leaves the unit taken.
        #expect(try shop.slot(sale).takeOne())
        #expect(eventually(within: 120) { outcomes.all.count == 600 })

        // Buyers keep coming; the automatic reconciliation returns held units, so all 120 sell.
        var next = 600
        let soldOut = eventually(within: 60) {
            while sold() < 120 && next < 5_000 {
                outcomes.record("b\(next)", try? shop.buyRetrying("b\(next)", sale: "crash"))
                next += 1
                if next % 50 == 0 { return false }
            }
            return sold() == 120
        }
        #expect(soldOut)
        try expectConsistent(shop, "crash", outcomes: outcomes)
        // A buyer whose order committed just before its process was killed got no 201; trying
        // again, they hear already_ordered, and their order is there.
        let ordered = Set(try shop.truth("crash").orders.map(\.user))
        for (user, outcome) in outcomes.all where outcome.status != 201 {
            #expect(
                outcome.code == "sold_out" || (outcome.code == "already_ordered" && ordered.contains(user)),
                "\(user): \(outcome.status) \(outcome.code ?? "")")
        }
    }

    @Test func aSegmentDeletedThenCorruptedMidSaleNeverOversells() throws {
        let shop = try LiveShop()
        let sale = try shop.createSale("damaged", stock: 100)
        let outcomes = Outcomes()
        let sold = { (try? shop.desk.store.sale("damaged"))?.map { $0.stock - $0.remaining } ?? 0 }
        let segment = shop.host.data.segment

        let buyers = Thread {
            _ = crowd(1_000, threads: 16) { index in
                outcomes.record("d\(index)", try? shop.buy("d\(index)", sale: "damaged"))
            }
        }
        buyers.start()
        #expect(eventually(within: 60) { sold() >= 20 })
        #expect(unlink(segment) == 0)
        // The first function to notice opens it again, rebuilt from SQLite.
        #expect(eventually(within: 60) { FileManager.default.fileExists(atPath: segment) })
        #expect(eventually(within: 60) { sold() >= 50 })
        // Garbage over the sale's slot: a huge remaining stock, a broken configuration.
        let garbage = [UInt8](repeating: 0x7F, count: SegmentFile.slotSize)
        #expect(SegmentFile.overwrite(segment, at: SegmentFile.slotField(sale.slot, 0), with: garbage))
        #expect(eventually(within: 120) { outcomes.all.count == 1_000 })

        let (row, orders) = try shop.truth("damaged")
        #expect(orders.count == 100 && row.remaining == 0)
        #expect(outcomes.created.count == 100)
        try expectConsistent(shop, "damaged", outcomes: outcomes)
    }
}
