import Basics
import Foundation
import Hosting
import Sales
import Store
import Synchronization
import TestSupport
import Testing

/// The order pool under `flashsale serve`: a process killed under a crowd costs only the
/// requests it held, and a flood beyond the queue limit is refused at the door while the
/// admitted orders are made.
@Suite struct PoolTests {
    /// An answer as the pool test sorts it: the function's own (it always sends Cache-Control),
    /// or lighttpd's errorfile page or a dropped connection, in the order they arrived.
    final class Answers: Sendable {
        enum Kind: Equatable {
            case created(user: String, orderID: Int64?)
            case function(status: Int, code: String?)
            case server(status: Int)
        }

        private let list = Mutex([Kind]())

        func record(_ user: String, _ answer: HTTPAnswer?) {
            let kind: Kind
            if let answer, answer.status == 201, let json = try? answer.json() {
                let orderID = (json["orderId"] as? NSNumber)?.int64Value
                kind = .created(user: json["user"] as? String ?? "", orderID: orderID)
            } else if let answer, answer.headers["cache-control"] != nil {
                kind = .function(status: answer.status, code: answer.errorCode)
            } else {
                kind = .server(status: answer?.status ?? 0)
            }
            list.withLock { $0.append(kind) }
        }

        var all: [Kind] { list.withLock { $0 } }
        var count: Int { list.withLock { $0.count } }
        var createdCount: Int { list.withLock { $0.count { if case .created = $0 { true } else { false } } } }
    }

    /// A buyer's order with a token minted like the token function's, straight to the order URL.
    func order(_ shop: LiveShop, _ sale: Sale, user: String) -> HTTPAnswer? {
        guard let token = try? shop.mintOrderToken(user: user, sale: sale.id, expiresIn: 120) else { return nil }
        return try? shop.order(user, path: "/api/order/\(sale.secret)", sale: sale.id, token: token)
    }

    @Test func aKilledOrderProcessCostsOnlyTheRequestsItHeld() throws {
        let shop = try LiveShop()
        let sale = try shop.createSale("pool", stock: 1_000_000)
        let buyers = 16
        let answers = Answers()
        let stop = Atomic(false)
        let done = Atomic(0)
        // Each buyer orders as a new user after every answer, at most 500 times, until stopped.
        Thread {
            _ = onThreads(buyers, within: 300) { thread in
                for index in 0..<500 where !stop.load(ordering: .relaxed) {
                    let user = "b\(thread)-\(index)"
                    answers.record(user, order(shop, sale, user: user))
                }
                done.add(1, ordering: .relaxed)
            }
        }.start()
        defer { stop.store(true, ordering: .relaxed) }

        #expect(eventually(within: 60) { answers.createdCount >= 100 }, "\(answers.all.suffix(5))\n\(shop.logTail)")
        let pids = shop.host.functionPIDs("order")
        let victim = try #require(pids.first, "no order process")
        let beforeKill = answers.count
        kill(victim, SIGKILL)
        let createdAtKill = answers.createdCount
        // The pool goes on: the next buyers get orders while lighttpd starts a replacement.
        #expect(
            eventually(within: 60) { answers.createdCount >= createdAtKill + 300 },
            "\(answers.all.suffix(5))\n\(shop.logTail)")
        stop.store(true, ordering: .relaxed)
        #expect(eventually(within: 60) { done.load(ordering: .relaxed) == buyers })
        #expect(
            eventually(within: 30) {
                let now = shop.host.functionPIDs("order")
                return now.count == pids.count && !now.contains(victim)
            }, "the killed process was not replaced: \(shop.host.functionPIDs("order"))")

        let all = answers.all
        let server = all.enumerated().filter { if case .server = $0.element { true } else { false } }
        // lighttpd answers itself only for requests it had sent to the killed process, which
        // were at most the buyers' requests in flight; none before the kill, and never its 503
        // for a pool with no process up.
        #expect(server.count <= buyers, "lighttpd answered \(server.count) requests itself: \(server.prefix(20))")
        #expect(!server.contains { $0.element == .server(status: 503) }, "the whole pool was out")
        #expect(server.allSatisfy { $0.offset >= beforeKill }, "lighttpd answered before the kill")
        let others = all.filter {
            switch $0 {
            case .created, .server: false
            case .function: true
            }
        }
        #expect(others.isEmpty, "the function refused: \(others.prefix(10))")

        // Every 201 is a row; a row without a 201 was committed by the killed process.
        let (_, orders) = try shop.truth("pool")
        let rows = Dictionary(uniqueKeysWithValues: orders.map { ($0.id, $0.user) })
        var created = 0
        for case .created(let user, let orderID) in all {
            created += 1
            #expect(orderID.flatMap { rows[$0] } == user, "the 201 for \(user) has no row")
        }
        #expect(orders.count >= created && orders.count - created <= server.count)
    }

    /// The order function's own `busy` message, which its door answers: not that of SQLite's
    /// busy timeout ("the order book is busy; …").
    static let doorMessage = "too many orders are waiting on this server; retry in a second"

    @Test func aFloodBeyondTheQueueLimitIsRefusedBusyWhileTheAdmittedOrdersAreMade() throws {
        let limit = 2
        let shop = try LiveShop(environment: ["FLASHSALE_ORDER_QUEUE_LIMIT": "\(limit)"])
        let sale = try shop.createSale("flood", stock: 1_000)
        let processes = shop.host.functionPIDs("order").count
        try #require(processes > 0, "no order process")
        let flood = 48
        let answers = Mutex([String: (answer: HTTPAnswer?, at: Date)]())

        // The test holds SQLite's write lock: every order process is held inside its order, so
        // whatever queues behind it can only be answered by the door until SQLite's busy
        // timeout, which then answers 503 `busy` with Retry-After too, but with its own message.
        let writer = try Database(path: shop.host.data.database)
        try writer.execute("BEGIN IMMEDIATE")
        let released = Atomic(false)
        defer { if !released.load(ordering: .relaxed) { try? writer.execute("ROLLBACK") } }
        let sent = Date()
        // No answer before then can be the busy timeout's: that comes at least the whole
        // timeout after its request was sent, and so after `sent`. An order of events, not a
        // speed: the door answers as soon as the requests queue.
        let busyTimeout = Double(Database.defaultBusyTimeoutMilliseconds) / 1000
        let beforeBusyTimeout = sent.addingTimeInterval(busyTimeout - 1)
        Thread {
            _ = onThreads(flood, within: 60) { index in
                let user = "f\(index)"
                let answer = order(shop, sale, user: user)
                answers.withLock { $0[user] = (answer, Date()) }
            }
        }.start()
        let held = processes * (limit + 1)
        func atTheDoor() -> [String: HTTPAnswer?] {
            answers.withLock { $0.filter { $0.value.at < beforeBusyTimeout }.mapValues(\.answer) }
        }
        _ = eventually(within: busyTimeout - 1) { atTheDoor().count >= flood - held }
        let whileHeld = atTheDoor()
        #expect(
            whileHeld.count >= flood - held,
            "only \(whileHeld.count) of \(flood) answered before SQLite's busy timeout could\n\(shop.logTail)")
        try writer.execute("ROLLBACK")
        released.store(true, ordering: .relaxed)
        #expect(eventually(within: 30) { answers.withLock { $0.count } == flood })

        // Each is the door's own answer, not the one of SQLite's busy timeout.
        for (user, answer) in whileHeld {
            #expect(answer?.status == 503 && answer?.errorCode == "busy", "\(user): \(answer?.text ?? "no answer")")
            #expect(answer?.headers["retry-after"] == "1" && answer?.headers["content-type"] == "application/json")
            let message = ((try? answer?.json())?["error"] as? [String: Any])?["message"] as? String
            #expect(message == Self.doorMessage, "\(user): \(message ?? "")")
        }
        let all = answers.withLock { $0.mapValues(\.answer) }
        let created = all.filter { $0.value?.status == 201 }
        let refused = all.filter { $0.value?.status == 503 && $0.value?.errorCode == "busy" }
        #expect(created.count + refused.count == flood, "\(all.mapValues { $0?.status ?? 0 })")
        #expect(!created.isEmpty && created.count <= held)
        let (stored, orders) = try shop.truth("flood")
        #expect(Set(orders.map(\.user)) == Set(created.keys))
        #expect(stored.remaining == 1_000 - Int64(created.count))
    }
}
