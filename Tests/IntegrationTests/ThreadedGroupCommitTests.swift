import Basics
import Foundation
import Hosting
import Sales
import Synchronization
import TestSupport
import Testing

@testable import Segment

/// Group commit among order processes that serve on several threads (`FLASHSALE_THREADS`):
/// several orders of one process wait in the commit queue at once, each in a session of its
/// own, and one group commits several of them. No unit is sold twice, none is lost, a leader
/// killed inside its transaction leaves none of its orders behind, and a process stopped with
/// orders waiting answers every one before it exits.
///
/// A holder process stopped before its transaction (`FLASHSALE_PAUSE_AT`) keeps the commit
/// lease while a threaded process's orders come in: they all wait, so that what follows is
/// decided, not raced.
@Suite(.serialized) struct ThreadedGroupCommitTests {
    typealias Shop = GroupCommitCrashTests.Shop

    @Test func twoThreadedProcessesSellExactlyTheStockWithOneOrderPerBuyer() throws {
        let stock: Int64 = 40
        let shop = try Shop(stock: stock)
        defer { shop.remove() }
        // The longest wait there is: on a loaded machine an order is committed late, never refused busy.
        let threaded = ["FLASHSALE_THREADS": "8", "FLASHSALE_COMMIT_WAIT_MS": "5000"]
        let processes = [try shop.start(threaded), try shop.start(threaded)]
        defer { processes.forEach { $0.killAndReap() } }

        let buyers = (0..<120).map { "buyer\($0)" }
        let requests = try buyers.enumerated().map { index, user in try shop.request(user, to: processes[index % 2]) }
        let answers = Mutex<[String: HTTPAnswer]>([:])
        let clients = 16
        let finished = onThreads(clients, within: 120) { client in
            for index in stride(from: client, to: buyers.count, by: clients) {
                guard let answer = try? requests[index]() else { continue }
                answers.withLock { $0[buyers[index]] = answer }
            }
        }
        #expect(finished)
        let heard = answers.withLock { $0 }
        let summary = heard.mapValues { "\($0.status) \($0.errorCode ?? "")" }
        #expect(heard.count == buyers.count, "buyers without an answer: \(Set(buyers).subtracting(heard.keys))")
        let created = heard.filter { $0.value.status == 201 }
        #expect(created.count == Int(stock), "\(summary)")
        let soldOut = heard.values.filter { $0.status == 409 && $0.errorCode == "sold_out" }
        #expect(soldOut.count == buyers.count - Int(stock), "\(summary)")

        for (user, answer) in created {
            let order = try #require(try shop.desk.store.order(sale: shop.sale.id, user: user), "\(user) has no order")
            #expect(try answer.json()["orderId"] as? Int == Int(order.id), "\(user): \(answer.text)")
        }
        let users = try shop.orderUsers()
        #expect(users.count == Int(stock) && Set(users) == Set(created.keys), "\(users)")
        #expect(try shop.storeRemaining() == 0)
        try shop.desk.reconcile(shop.sale.id, nowMs: Shop.nowMs())
        #expect(shop.slot.remaining == (try shop.storeRemaining()))
        // Fewer groups than half the orders: some group held three orders or more, so two of
        // one process, since there are two.
        let groups = shop.slot.count(.groupCommits)
        #expect((1..<stock / 2).contains(groups), "\(groups) group commits for \(stock) orders")
    }

    @Test func aThreadedLeaderKilledInsideItsTransactionLosesNoAcknowledgedOrder() throws {
        let stock: Int64 = 10
        let shop = try Shop(stock: stock)
        defer { shop.remove() }
        let holder = try shop.start(["FLASHSALE_PAUSE_AT": "before-transaction", "FLASHSALE_COMMIT_WAIT_MS": "5000"])
        defer { holder.killAndReap() }
        let leader = try shop.start([
            "FLASHSALE_THREADS": "4", "FLASHSALE_PAUSE_AT": "in-transaction", "FLASHSALE_COMMIT_WAIT_MS": "5000",
        ])
        defer { leader.killAndReap() }
        let follower = try shop.start(["FLASHSALE_THREADS": "4", "FLASHSALE_COMMIT_WAIT_MS": "5000"])
        defer { follower.killAndReap() }

        let held = try shop.send("held", to: holder)
        try #require(eventually { holder.runState == "T" }, "the holder never stopped: \(held.described)")
        let leaderBuyers = ["a1", "a2", "a3"]
        let toLeader = try leaderBuyers.map { try shop.send($0, to: leader) }
        try #require(
            eventually { try shop.entries(.waiting, of: leader) == leaderBuyers.count },
            "the leader's buyers did not all wait: \(toLeader.map(\.described))")
        holder.process.signal(SIGCONT)
        try #require(
            eventually { leader.runState == "T" }, "the leader never stopped: \(toLeader.map(\.described))")
        #expect(try shop.leaseHolder() == leader.process.pid)
        #expect(try shop.entries(.claimed, of: leader) == leaderBuyers.count, "not one group of its own three")
        let answerOfHeld = try #require(held.wait(within: 10), "the holder's buyer was not answered").get()
        #expect(answerOfHeld.status == 201, "\(answerOfHeld.status) \(answerOfHeld.text)")

        let followerBuyers = ["b1", "b2"]
        let toFollower = try followerBuyers.map { try shop.send($0, to: follower) }
        try #require(
            eventually { try shop.entries(.waiting, of: follower) == followerBuyers.count },
            "the follower's buyers did not wait: \(toFollower.map(\.described))")
        #expect(toFollower.allSatisfy { $0.outcome == nil }, "answered while the leader held its lease")
        try leader.killAndReap(holding: follower)

        for (user, pending) in zip(followerBuyers, toFollower) {
            let answer = try #require(pending.wait(within: 10), "\(user) was not answered after the leader died").get()
            #expect(answer.status == 201, "\(user): \(answer.status) \(answer.text)")
            let order = try #require(try shop.desk.store.order(sale: shop.sale.id, user: user), "\(user) has no order")
            #expect(try answer.json()["orderId"] as? Int == Int(order.id))
        }
        for (user, pending) in zip(leaderBuyers, toLeader) {
            let outcome = try #require(pending.wait(within: 10), "\(user)'s connection outlived its process")
            #expect((try? outcome.get())?.status != 201, "\(user) was acknowledged by a killed leader")
        }
        let users = try shop.orderUsers()
        #expect(Set(users) == Set(["held"] + followerBuyers) && users.count == 3, "\(users)")
        let remaining = try shop.storeRemaining()
        #expect(remaining == stock - Int64(users.count), "a unit taken twice or lost")
        // The gate gave a unit to each of the six buyers; the leader's three come back only
        // with a reconciliation.
        #expect(shop.slot.remaining == stock - 6)
        try shop.desk.reconcile(shop.sale.id, nowMs: Shop.nowMs())
        #expect(shop.slot.remaining == remaining)
    }

    @Test func aThreadedProcessStoppedWithOrdersWaitingAnswersThemAll() throws {
        let stock: Int64 = 10
        let shop = try Shop(stock: stock)
        defer { shop.remove() }
        let holder = try shop.start(["FLASHSALE_PAUSE_AT": "before-transaction", "FLASHSALE_COMMIT_WAIT_MS": "5000"])
        defer { holder.killAndReap() }
        let threads = 4
        let process = try shop.start(["FLASHSALE_THREADS": String(threads), "FLASHSALE_COMMIT_WAIT_MS": "5000"])
        defer { process.killAndReap() }

        let held = try shop.send("held", to: holder)
        try #require(eventually { holder.runState == "T" }, "the holder never stopped: \(held.described)")
        let buyers = (1...threads).map { "buyer\($0)" }
        let pending = try buyers.map { try shop.send($0, to: process) }
        try #require(
            eventually { try shop.entries(.waiting, of: process) == threads },
            "every serving thread did not hold a waiting order: \(pending.map(\.described))")
        process.process.signal(SIGTERM)
        // Every thread is in an order, so the stop waits for one of them to be answered.
        #expect(
            !eventually(within: 0.3) { !process.isRunning || pending.contains { $0.outcome != nil } },
            "the process did not wait for its orders: \(pending.map(\.described))")
        holder.process.signal(SIGCONT)

        var placed: [String] = []
        for (user, request) in zip(buyers, pending) {
            let answer = try #require(request.wait(within: 10), "\(user) was not answered").get()
            if answer.status == 201 {
                placed.append(user)
                let order = try #require(try shop.desk.store.order(sale: shop.sale.id, user: user))
                #expect(try answer.json()["orderId"] as? Int == Int(order.id))
            } else {
                #expect(answer.status == 503 && answer.errorCode == "busy", "\(user): \(answer.status) \(answer.text)")
            }
        }
        #expect(process.waitForExit(within: 10) == 0)
        let users = try shop.orderUsers()
        #expect(Set(users) == Set(["held"] + placed) && users.count == placed.count + 1, "\(users)")
        #expect(try shop.storeRemaining() == stock - Int64(users.count))
        #expect(try !shop.queueEntries().contains { $0.pid == process.process.pid && $0.code != .free })
    }
}

extension GroupCommitCrashTests.Shop {
    /// How many entries of the commit queue are in state `code` and owned by `function`.
    fileprivate func entries(_ code: EntryState.Code, of function: FunctionProcess) throws -> Int {
        try queueEntries().count { $0.code == code && $0.pid == function.process.pid }
    }
}
