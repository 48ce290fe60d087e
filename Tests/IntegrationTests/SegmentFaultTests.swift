import Foundation
import Hosting
import Synchronization
import TestSupport
import Testing

/// The segment file truncated to nothing under running function processes, again and again
/// while a crowd gets tokens, prechecks and orders: each process contains the fault, opens the
/// segment again (rebuilt from SQLite), and the sale sells exactly its stock.
@Suite struct SegmentFaultTests {
    static let stock: Int64 = 150
    static let buyers = 1_200

    @Test func truncatingTheSegmentMidSaleCrashesNothingAndSellsExactlyTheStock() throws {
        let shop = try LiveShop()
        let serve = try #require(shop.host as? ServeProcess)
        try shop.createSale("cut", stock: Self.stock)
        let outcomes = Outcomes()
        let statuses = Mutex([Int: Int]())
        let sold = { (try? shop.desk.store.sale("cut"))?.map { $0.stock - $0.remaining } ?? 0 }
        let buy = { @Sendable (user: String) in
            outcomes.record(
                user,
                shop.buyWithPrecheck(user, sale: "cut") { status in statuses.withLock { $0[status, default: 0] += 1 } })
        }

        let buyers = Thread { _ = crowd(Self.buyers, threads: 16, within: 240) { buy("t\($0)") } }
        buyers.start()
        let segment = serve.data.segment
        for round: Int64 in 1...4 {
            #expect(
                eventually(within: 60) { sold() >= round * Self.stock / 6 }, "sold \(sold()); \(outcomes.histogram)")
            #expect(sold() < Self.stock, "round \(round): the sale sold out before the segment was truncated")
            #expect(truncate(segment, 0) == 0)
            // A process that faults or sees the file short opens it again, growing it.
            #expect(
                eventually(within: 30) { Self.size(segment) == SegmentFile.size },
                "round \(round): the segment was not rebuilt\n\(shop.logTail)")
        }
        #expect(eventually(within: 240) { outcomes.all.count == Self.buyers }, "\(outcomes.histogram)")

        // A buyer told sold_out from a faulted read leaves a unit: later buyers take it.
        var next = Self.buyers
        let soldOut = eventually(within: 60) {
            for _ in 0..<20 where sold() < Self.stock && next < 4 * Self.buyers {
                buy("t\(next)")
                next += 1
            }
            return sold() == Self.stock
        }
        #expect(soldOut, "sold \(sold()) of \(Self.stock); \(outcomes.histogram)\n\(shop.logTail)")

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

extension LiveShop {
    /// A buyer as the page is one: precheck, then a token, then the order, trying the whole
    /// again after a 5xx or no answer; every status (0 for none) goes to `count`. The last answer.
    func buyWithPrecheck(_ user: String, sale: String, count: (Int) -> Void) -> HTTPAnswer? {
        var answer: HTTPAnswer?
        for _ in 0..<100 {
            let precheck = try? request("GET", "/api/precheck?sale=\(sale)")
            count(precheck?.status ?? 0)
            answer = try? buy(user, sale: sale)
            count(answer?.status ?? 0)
            if let status = answer?.status, status < 500 { return answer }
            usleep(20_000)  // the client's pause before trying again, not a wait for the server
        }
        return answer
    }
}
