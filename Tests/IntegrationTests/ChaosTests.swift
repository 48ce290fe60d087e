import Basics
import Foundation
import Hosting
import Synchronization
import TestSupport
import Testing

/// A bad sale day on one host: a crowd buys while function processes are killed at random,
/// the segment file is truncated under them and lighttpd is killed. The invariants hold, the
/// host heals itself, and nothing dies of a signal that the test did not send.
@Suite(.serialized) struct ChaosTests {
    static let stock: Int64 = 400

    @Test func aSaleUnderKillsATruncatedSegmentAndADeadLighttpdSellsExactlyItsStock() throws {
        let shop = try LiveShop()
        let serve = try #require(shop.host as? ServeProcess)
        let sale = try shop.createSale("chaos", stock: Self.stock)
        let outcomes = Outcomes()
        let answers = AnswerTally()
        let sold = { (try? shop.desk.store.sale("chaos"))?.map { $0.stock - $0.remaining } ?? 0 }
        let lighttpdBefore = try #require(serve.lighttpdPID)
        var killed = 0
        let killSome = { (rounds: Int) in
            for _ in 0..<rounds {
                let pids = ["token", "order", "precheck"].flatMap { serve.functionPIDs($0) }
                if let pid = pids.randomElement(), kill(pid, SIGKILL) == 0 { killed += 1 }
                usleep(20_000)  // the pause between two kills, not a wait for the host
            }
        }
        /// Buyers `range` buy on their own threads while `fault` runs, once they have made
        /// `after` more orders. Every fault lands while the sale still sells, as the
        /// `sold() < stock` expectation checks (the last wave has more buyers than units left).
        let wave = { (range: Range<Int>, after: Int64, fault: () -> Void) in
            let before = sold()
            let buyers = Thread {
                _ = crowd(range.count, threads: 16, within: 120) { offset in
                    let user = "c\(range.lowerBound + offset)"
                    outcomes.record(user, shop.buyCounting(user, sale: "chaos", into: answers))
                }
            }
            buyers.start()
            #expect(eventually(within: 60) { sold() >= before + after }, "sold \(sold()); \(answers.all)")
            #expect(sold() < Self.stock, "the sale sold out before the fault landed")
            fault()
            #expect(eventually(within: 120) { outcomes.all.count >= range.upperBound }, "\(answers.all)")
        }

        wave(0..<100, 10) { killSome(15) }
        wave(100..<200, 20) { #expect(truncate(serve.data.segment, 0) == 0) }
        wave(200..<300, 20) {
            #expect(kill(lighttpdBefore, SIGKILL) == 0)
            killSome(5)
        }
        #expect(
            eventually(within: 30) {
                (serve.lighttpdPID.map { $0 != lighttpdBefore && kill($0, 0) == 0 } ?? false)
                    && (try? HTTPClient.request(port: serve.port, target: "/api/time"))?.status == 200
            }, "no new lighttpd answered\n\(serve.log)\n\(shop.logTail)")
        wave(300..<900, 20) { killSome(15) }

        // Units held by killed processes come back by reconciliation: later buyers take them.
        var next = 900
        let soldOut = eventually(within: 60) {
            for _ in 0..<20 where sold() < Self.stock && next < 3_000 {
                outcomes.record("c\(next)", shop.buyCounting("c\(next)", sale: "chaos", into: answers))
                next += 1
            }
            return sold() == Self.stock
        }
        #expect(soldOut, "sold \(sold()) of \(Self.stock); \(outcomes.histogram)\n\(shop.logTail)")

        let (row, orders) = try shop.truth("chaos")
        #expect(orders.count == Int(Self.stock) && row.remaining == 0)
        #expect(Set(orders.map(\.user)).count == orders.count, "a user holds two orders")
        let rows = Dictionary(uniqueKeysWithValues: orders.map { ($0.id, $0.user) })
        for (user, outcome) in outcomes.created {
            #expect(outcome.orderID.flatMap { rows[$0] } == user, "the 201 for \(user) has no row")
        }
        #expect(killed >= 30, "only \(killed) function processes were killed")
        #expect(try shop.slot(sale).remaining == 0)
        // A request in flight on a killed process is answered by lighttpd (502, 503); no function
        // ever answers `internal`.
        #expect(answers.all.keys.allSatisfy { !$0.contains("the function failed") }, "\(answers.all)")

        // Nothing died of a signal but the SIGKILLs sent here; serve is still serving.
        let lighttpdLog = try String(contentsOfFile: serve.data.logs + "/lighttpd-error.log", encoding: .utf8)
        let signalled = lighttpdLog.split(separator: "\n").filter { $0.contains("child signalled:") }
        #expect(signalled.allSatisfy { $0.hasSuffix("child signalled: 9") }, "\(signalled)")
        let functionLog = (try? String(contentsOfFile: serve.data.functionLog, encoding: .utf8)) ?? ""
        #expect(!functionLog.contains("crashed"), "\(functionLog.suffix(2_000))")
        #expect(serve.process.exitStatus() == nil, "serve exited\n\(serve.log)")
        #expect(serve.log.contains("lighttpd restarted"), "\(serve.log)")
        #expect(serve.stop() == 0, "\(serve.log)")
    }
}

/// How many answers of each kind a crowd got, every try counted (not just the last): the
/// status, and for a 5xx its error code and message.
final class AnswerTally: Sendable {
    private let counts = Mutex([String: Int]())

    func record(_ answer: HTTPAnswer?) {
        guard let answer else { return counts.withLock { $0["no answer", default: 0] += 1 } }
        let error = (try? answer.json())?["error"] as? [String: Any]
        let key =
            answer.status < 500
            ? "\(answer.status)" : "\(answer.status) \(error?["code"] ?? "") \(error?["message"] ?? answer.text)"
        counts.withLock { $0[key, default: 0] += 1 }
    }

    var all: [String: Int] { counts.withLock { $0 } }
}

extension LiveShop {
    /// `buyRetrying`, with every answer counted in `tally`.
    func buyCounting(_ user: String, sale: String, into tally: AnswerTally, attempts: Int = 200) -> HTTPAnswer? {
        var answer: HTTPAnswer?
        for _ in 0..<attempts {
            answer = try? buy(user, sale: sale)
            tally.record(answer)
            if let status = answer?.status, status < 500 { return answer }
            usleep(20_000)  // the client's pause before trying again, not a wait for the server
        }
        return answer
    }
}
