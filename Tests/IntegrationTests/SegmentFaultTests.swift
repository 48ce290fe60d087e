import Basics
import Foundation
import Hosting
import Store
import Synchronization
import TestSupport
import Testing

/// The segment file truncated to nothing under running function processes, again and again
/// while a crowd gets tokens, prechecks and orders: each process contains the fault, opens the
/// segment again (rebuilt from SQLite), nobody is told sold out while stock remains, and the
/// sale sells exactly its stock.
@Suite struct SegmentFaultTests {
    static let stock: Int64 = 150
    static let buyers = 1_200
    static let threads = 16

    @Test func truncatingTheSegmentMidSaleCrashesNothingAndSellsExactlyTheStock() throws {
        let shop = try LiveShop()
        let serve = try #require(shop.host as? ServeProcess)
        try shop.createSale("cut", stock: Self.stock)
        let outcomes = Outcomes()
        let statuses = Mutex([Int: Int]())
        let early = try EarlyRefusals(database: serve.data.database, sale: "cut", inFlight: Int64(Self.threads))
        let sold = { (try? shop.desk.store.sale("cut"))?.map { $0.stock - $0.remaining } ?? 0 }
        let buy = { @Sendable (user: String) in
            outcomes.record(
                user,
                shop.buyWithPrecheck(user, sale: "cut") { request, answer in
                    statuses.withLock { $0[answer?.status ?? 0, default: 0] += 1 }
                    early.check(request, answer)
                })
        }

        let buyers = Thread { _ = crowd(Self.buyers, threads: Self.threads, within: 240) { buy("t\($0)") } }
        buyers.start()
        let segment = serve.data.segment
        for round: Int64 in 1...4 {
            #expect(
                eventually(within: 60) { sold() >= round * Self.stock / 6 }, "sold \(sold()); \(outcomes.histogram)")
            // A few cuts in a row: each rebuild is a moment in which a slot reads cleared.
            for _ in 0..<3 {
                #expect(sold() < Self.stock, "round \(round): the sale sold out before the segment was truncated")
                #expect(truncate(segment, 0) == 0)
                // A process that faults or sees the file short opens it again, growing it.
                #expect(
                    eventually(within: 30) { Self.size(segment) == SegmentFile.size },
                    "round \(round): the segment was not rebuilt\n\(shop.logTail)")
            }
        }
        #expect(eventually(within: 240) { outcomes.all.count == Self.buyers }, "\(outcomes.histogram)")

        // A unit held by an order in flight when the crowd's last buyers were told sold out, and
        // given back when its write failed, goes to later buyers.
        var next = Self.buyers
        let soldOut = eventually(within: 60) {
            for _ in 0..<20 where sold() < Self.stock && next < 4 * Self.buyers {
                buy("t\(next)")
                next += 1
            }
            return sold() == Self.stock
        }
        #expect(soldOut, "sold \(sold()) of \(Self.stock); \(outcomes.histogram)\n\(shop.logTail)")
        #expect(early.all.isEmpty, "\(early.all.prefix(20))\n\(outcomes.histogram)")

        let (row, orders) = try shop.truth("cut")
        #expect(orders.count == Int(Self.stock) && row.remaining == 0)
        #expect(Set(orders.map(\.user)).count == orders.count, "a user holds two orders")
        let rows = Dictionary(uniqueKeysWithValues: orders.map { ($0.id, $0.user) })
        for (user, outcome) in outcomes.created {
            #expect(outcome.orderID.flatMap { rows[$0] } == user, "the 201 for \(user) has no row")
        }
        let counted = statuses.withLock { $0 }
        #expect(counted[500] == nil && counted[0] == nil, "\(counted)\n\(shop.logTail)")

        // No function process died: lighttpd logs a child killed by a signal, or a connection
        // its process dropped; the Swift runtime logs a crash to the functions' log.
        let lighttpdLog = try String(contentsOfFile: serve.data.logs + "/lighttpd-error.log", encoding: .utf8)
        let deaths = lighttpdLog.split(separator: "\n").filter {
            $0.contains("child signalled") || $0.contains("died") || $0.contains("child exited")
        }
        #expect(deaths.isEmpty, "\(deaths)")
        let functionLog = (try? String(contentsOfFile: serve.data.functionLog, encoding: .utf8)) ?? ""
        #expect(
            !functionLog.contains("Program crashed") && !functionLog.contains("Bus error"),
            "\(functionLog.suffix(2_000))")
        #expect(serve.stop() == 0, "\(serve.log)")
    }

    static func size(_ path: String) -> Int? {
        var status = stat()
        return stat(path, &status) == 0 ? Int(status.st_size) : nil
    }
}

/// Answers that said a sale was sold out or unknown while SQLite still held more of its stock
/// than the orders in flight can hold (units taken from the segment, not yet committed: at most
/// one per buyer thread). SQLite is read after the answer, so it holds no more than when the
/// function answered.
final class EarlyRefusals: Sendable {
    /// SQLite on a connection of the buyers' own (the desk's is the test thread's), one at a time.
    private let store: Mutex<SQLiteSaleStore>
    private let sale: String
    private let inFlight: Int64
    private let found = Mutex([String]())

    init(database: String, sale: String, inFlight: Int64) throws {
        store = Mutex(try SQLiteSaleStore(path: database))
        (self.sale, self.inFlight) = (sale, inFlight)
    }

    /// Checks the answer to `request` ("precheck" or "buy": a token and an order).
    func check(_ request: String, _ answer: HTTPAnswer?) {
        guard let answer else { return }
        let reason = answer.status == 200 ? (try? answer.json())?["reason"] as? String : answer.errorCode
        guard reason == "sold_out" || reason == "unknown_sale" else { return }
        let remaining = store.withLock { store in (try? store.sale(sale))?.remaining }
        if let remaining, remaining > inFlight {
            found.withLock { $0.append("\(request) answered \(answer.status) \(reason ?? "") with \(remaining) left") }
        }
    }

    var all: [String] { found.withLock { $0 } }
}

extension LiveShop {
    /// A buyer as the page is one: precheck, then a token, then the order, trying the whole
    /// again after a 5xx or no answer; every answer (nil for none) goes to `observe`, with
    /// "precheck" or "buy". The last answer.
    func buyWithPrecheck(
        _ user: String, sale: String, observe: (_ request: String, HTTPAnswer?) -> Void
    ) -> HTTPAnswer? {
        var answer: HTTPAnswer?
        for _ in 0..<100 {
            observe("precheck", try? request("GET", "/api/precheck?sale=\(sale)"))
            answer = try? buy(user, sale: sale)
            observe("buy", answer)
            if let status = answer?.status, status < 500 { return answer }
            usleep(20_000)  // the client's pause before trying again, not a wait for the server
        }
        return answer
    }
}
