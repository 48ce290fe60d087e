import Basics
import Foundation
import Hosting
import Sales
import Store
import Synchronization
import TestSupport
import Testing

/// The buying path through real lighttpd and real function processes: the invariants of a
/// sale under a crowd, process kills and a damaged segment.
@Suite struct BuyingPathTests {
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

    /// An order process killed inside its transaction, deterministically: the test holds
    /// SQLite's write lock, so the order takes its unit from the segment and then waits in
    /// BEGIN IMMEDIATE; it is killed there. Its buyer hears an error, nothing is written, the
    /// unit comes back by itself, and the sale still sells exactly its stock.
    func killAnOrderInsideItsTransaction(_ shop: LiveShop, _ sale: Sale, buyer: String) throws {
        let issued = try shop.askToken(buyer, sale: sale.id).json()
        let url = try #require(issued["orderUrl"] as? String)
        let token = try #require(issued["token"] as? String)
        // A function process reconciles every sale as it starts, levelling the gate with SQLite:
        // the order's taken unit must not be given back by a process still starting.
        let functions = try FileManager.default.contentsOfDirectory(atPath: Paths.packageRoot + "/functions")
        #expect(
            eventually(within: 60) {
                functions.flatMap(shop.host.functionPIDs).allSatisfy { pid in
                    (0..<3).allSatisfy { _ in waitChannel(pid).contains("poll") }
                }
            }, "function processes still starting")
        let slot = try shop.slot(sale)
        let before = slot.remaining
        try #require(before == sale.remaining, "the gate starts level with the truth")

        let writer = try Database(path: shop.host.data.database)
        try writer.execute("BEGIN IMMEDIATE")
        let heard = Outcomes()
        Thread { [shop] in heard.record(buyer, try? shop.order(buyer, path: url, sale: sale.id, token: token)) }.start()
        // The order process takes its unit, then waits for the lock in BEGIN IMMEDIATE (the one
        // write of the order path, after the take), sleeping in SQLite's busy handler: 5 s
        // before it would give up and answer busy. Idle processes wait in poll.
        #expect(eventually(within: 30) { slot.remaining == before - 1 }, "the order never took its unit")
        var waiting: [pid_t] = []
        #expect(
            eventually(within: 30) {
                waiting = shop.host.functionPIDs("order").filter(isSleepingInABusyHandler)
                return waiting.count == 1
            }, "no order process waits for the lock")
        try #require(heard.all.isEmpty, "the order was answered while the lock was held: \(heard.histogram)")
        for pid in waiting { kill(pid, SIGKILL) }

        // A 5xx from the web server, or the connection dropped (status 0).
        #expect(eventually(within: 15) { heard.all[buyer] != nil })
        let status = heard.all[buyer]?.status ?? -1
        #expect(status == 0 || status >= 500, "the buyer of the killed order heard \(heard.histogram)")
        try writer.execute("ROLLBACK")
        #expect(try !shop.desk.store.hasOrder(sale: sale.id, user: buyer))
        #expect(try shop.truth(sale.id).sale.remaining == sale.remaining)
        // Nobody returns the unit by hand: a replacement process reconciles as it starts, and
        // requests reconcile every interval.
        #expect(
            eventually(within: 20) {
                _ = try? shop.request("GET", "/api/precheck?sale=\(sale.id)")
                return slot.remaining == before
            }, "the unit of the killed order stayed taken: \(slot.remaining)")
    }

    @Test func killingOrderProcessesMidSaleLosesNoAcknowledgedOrderAndTheStockStillSells() throws {
        let shop = try LiveShop()
        let sale = try shop.createSale("crash", stock: 120)
        let outcomes = Outcomes()
        let sold = { (try? shop.desk.store.sale("crash"))?.map { $0.stock - $0.remaining } ?? 0 }

        try killAnOrderInsideItsTransaction(shop, sale, buyer: "killed-in-flight")

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
        let ordered = Set(try shop.truth("crash").orders.map(\.user))
        #expect(!ordered.contains("killed-in-flight"))
        // A buyer whose order committed just before its process was killed got no 201; trying
        // again, they hear already_ordered, and their order is there.
        for (user, outcome) in outcomes.all where outcome.status != 201 {
            #expect(
                outcome.code == "sold_out" || (outcome.code == "already_ordered" && ordered.contains(user)),
                "\(user): \(outcome.status) \(outcome.code ?? "")")
        }
    }

    /// Garbage is written over the sale's slot, then the segment is deleted, each while the sale
    /// is selling: the crowd is held at a gate while the damage lands, with stock left in
    /// SQLite, and orders must go on being made after it.
    @Test func aSegmentCorruptedThenDeletedMidSaleNeverOversells() throws {
        let shop = try LiveShop()
        let sale = try shop.createSale("damaged", stock: 100)
        let outcomes = Outcomes()
        let sold = { (try? shop.desk.store.sale("damaged"))?.map { $0.stock - $0.remaining } ?? 0 }
        let segment = shop.host.data.segment
        let gate = BuyerGate()
        #expect(gate.close())

        let buyers = Thread {
            _ = crowd(1_000, threads: 16) { index in
                gate.pass { outcomes.record("d\(index)", try? shop.buy("d\(index)", sale: "damaged")) }
            }
        }
        buyers.start()
        /// Lets the crowd buy up to `threshold`, holds it, checks the sale is still selling,
        /// damages, lets the crowd on until an order is made after the damage, and holds it again.
        func whileSelling(_ what: String, after threshold: Int64, _ damage: () -> Void) {
            gate.open()
            #expect(eventually(within: 60) { sold() >= threshold }, "\(what): sold \(sold()) \(outcomes.histogram)")
            #expect(gate.close(), "\(what): buyers still in flight")
            let atDamage = sold()
            #expect(atDamage < sale.stock, "\(what) would land after the sale: \(atDamage) sold")
            damage()
            gate.open()
            #expect(eventually(within: 60) { sold() > atDamage }, "\(what): no order after it; \(outcomes.histogram)")
            #expect(gate.close(), "\(what): buyers still in flight")
        }
        // First garbage over the sale's slot, in the file every order process maps: a huge
        // remaining stock, a broken configuration, stray flags.
        whileSelling("garbage over the slot", after: 20) {
            var info = stat()
            #expect(stat(segment, &info) == 0)
            let orderProcesses = shop.host.functionPIDs("order")
            #expect(!orderProcesses.isEmpty)
            for pid in orderProcesses {
                #expect(mappedInodes(pid, containing: "stock.segment") == [UInt64(info.st_ino)], "order process \(pid)")
            }
            let garbage = [UInt8](repeating: 0x7F, count: SegmentFile.slotSize)
            #expect(SegmentFile.overwrite(segment, at: SegmentFile.slotField(sale.slot, 0), with: garbage))
        }
        whileSelling("deleting the segment", after: 50) {
            #expect(unlink(segment) == 0)
        }
        // The first function to notice opens it again, rebuilt from SQLite (a precheck notices).
        #expect(
            eventually(within: 60) {
                _ = try? shop.request("GET", "/api/precheck?sale=damaged")
                return FileManager.default.fileExists(atPath: segment)
            })
        gate.open()
        #expect(eventually(within: 120) { outcomes.all.count == 1_000 })

        let (row, orders) = try shop.truth("damaged")
        #expect(orders.count == 100 && row.remaining == 0)
        #expect(outcomes.created.count == 100)
        try expectConsistent(shop, "damaged", outcomes: outcomes)
    }
}

/// The kernel function process `pid` waits in (`/proc/PID/wchan`; "0" while it runs).
func waitChannel(_ pid: pid_t) -> String {
    (try? String(contentsOfFile: "/proc/\(pid)/wchan", encoding: .utf8)) ?? ""
}

/// Whether process `pid` sleeps as SQLite's busy handler does (100 µs at a time, between
/// tries for a lock), judged on 20 looks at where it waits (`/proc/PID/wchan`): an idle
/// function process waits in poll.
func isSleepingInABusyHandler(_ pid: pid_t) -> Bool {
    let looks = (0..<20).map { _ in
        defer { usleep(500) }  // spacing the looks, not waiting for the process
        return waitChannel(pid)
    }
    return looks.filter { $0.contains("nanosleep") }.count >= 10
}

/// The inodes of the files process `pid` maps whose path contains `name` (`/proc/PID/maps`).
func mappedInodes(_ pid: pid_t, containing name: String) -> Set<UInt64> {
    let maps = (try? String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8)) ?? ""
    return Set(
        maps.split(separator: "\n").filter { $0.contains(name) }.compactMap { line in
            UInt64(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst(4).first ?? "")
        })
}

/// A gate in front of a crowd's buyers: closed, it lets no new buy start and reports when the
/// ones in flight have finished, so a test can act between orders.
final class BuyerGate: Sendable {
    private let state = Mutex((isOpen: true, inFlight: 0))

    /// Waits while the gate is closed, then runs `buy`.
    func pass(_ buy: () -> Void) {
        while !state.withLock({ state in
            guard state.isOpen else { return false }
            state.inFlight += 1
            return true
        }) {
            usleep(1_000)  // polling a closed gate; the test opens it within seconds
        }
        buy()
        state.withLock { $0.inFlight -= 1 }
    }

    /// Closes the gate; true once no buy is in flight (within 30 s).
    func close() -> Bool {
        state.withLock { $0.isOpen = false }
        return eventually(within: 30) { state.withLock { $0.inFlight == 0 } }
    }

    func open() {
        state.withLock { $0.isOpen = true }
    }
}
