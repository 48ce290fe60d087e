import Backends
import Basics
import Foundation
import Hosting
import Identity
import Sales
import Store
import Synchronization
import TestSupport
import Testing

@testable import Segment

/// Group commit among real order processes on one data directory (invariants 2, 3, 8 and 9):
/// the process that leads a group is held (`FLASHSALE_PAUSE_AT`, SIGSTOP) at each point of its
/// commit and killed there. The next waiter takes the lease over and commits its own order; the
/// dead leader's order stays exactly when it was committed before the kill and is never
/// committed after; no unit is taken twice, and the units of orders never committed come back
/// with a reconciliation. A held leader costs the others a bounded wait, a full queue a refusal
/// at once, each with its unit given back.
@Suite(.serialized) struct GroupCommitCrashTests {
    static let stock: Int64 = 5

    @Test(arguments: CommitPoint.allCases.map(\.rawValue))
    func aLeaderKilledAtAnyPointKeepsItsOrderExactlyWhenCommittedAndTheNextWaiterCommitsOn(_ point: String) throws {
        let shop = try Shop(stock: Self.stock)
        defer { shop.remove() }
        let leader = try shop.start(["FLASHSALE_PAUSE_AT": point, "FLASHSALE_COMMIT_WAIT_MS": "5000"])
        defer { leader.killAndReap() }
        let follower = try shop.start(["FLASHSALE_COMMIT_WAIT_MS": "5000"])
        defer { follower.killAndReap() }

        let a = try shop.send("a", to: leader)
        try #require(eventually { leader.runState == "T" }, "the leader never stopped at \(point): \(a.described)")
        #expect(try shop.leaseHolder() == leader.process.pid)
        #expect(try shop.queueEntries().contains { $0.code == .claimed && $0.pid == leader.process.pid })
        let b = try shop.send("b", to: follower)
        try #require(
            eventually { try shop.queueEntries().contains { $0.code == .waiting && $0.pid == follower.process.pid } },
            "b never waited in the commit queue: \(b.described)")
        #expect(b.outcome == nil, "b was answered while the leader held its lease: \(b.described)")
        try leader.killAndReap(holding: follower)

        let answerOfB = try #require(b.wait(within: 10), "b was not answered after the leader died").get()
        #expect(answerOfB.status == 201, "\(point): \(answerOfB.status) \(answerOfB.text)")
        let outcomeOfA = try #require(a.wait(within: 10), "a's connection outlived its process")
        #expect((try? outcomeOfA.get()) == nil, "a killed process answered a: \(outcomeOfA.debug)")

        let committedBeforeKill = [CommitPoint.afterCommit, .afterSync].contains(CommitPoint(rawValue: point))
        let users = try shop.orderUsers()
        #expect(users.filter { $0 == "b" }.count == 1, "\(point): \(users)")
        #expect(users.contains("a") == committedBeforeKill, "\(point): \(users)")
        #expect(users.count == (committedBeforeKill ? 2 : 1), "\(point): \(users)")
        let orderOfB = try #require(try shop.desk.store.order(sale: shop.sale.id, user: "b"))
        #expect(try answerOfB.json()["orderId"] as? Int == Int(orderOfB.id))
        let remaining = try shop.storeRemaining()
        #expect(remaining == Self.stock - Int64(users.count), "\(point): a unit taken twice or lost")
        // The gate gave a unit to a and to b; a's process died holding it, so only a
        // reconciliation gives it back, when a's order was never committed.
        #expect(shop.slot.remaining == Self.stock - 2)
        try shop.desk.reconcile(shop.sale.id, nowMs: Shop.nowMs())
        #expect(shop.slot.remaining == remaining)

        let answerOfC = try #require(try shop.send("c", to: follower).wait(within: 10), "c was not answered").get()
        #expect(answerOfC.status == 201, "\(point): \(answerOfC.status) \(answerOfC.text)")
        let after = try shop.orderUsers()
        #expect(Set(after) == Set(users + ["c"]) && after.count == users.count + 1, "\(point): \(after)")
        #expect(try shop.storeRemaining() == Self.stock - Int64(after.count))
        #expect(shop.slot.remaining == (try shop.storeRemaining()))
    }

    @Test func aBuyerWaitingOnAHeldLeaderIsAnsweredBusyAfterItsWaitWithItsUnitBack() throws {
        let shop = try Shop(stock: Self.stock)
        defer { shop.remove() }
        let leader = try shop.start(["FLASHSALE_PAUSE_AT": "before-transaction", "FLASHSALE_COMMIT_WAIT_MS": "5000"])
        defer { leader.killAndReap() }
        let follower = try shop.start(["FLASHSALE_COMMIT_WAIT_MS": "300"])
        defer { follower.killAndReap() }

        let a = try shop.send("a", to: leader)
        try #require(eventually { leader.runState == "T" }, "the leader never stopped: \(a.described)")
        let before = shop.slot.remaining
        #expect(before == Self.stock - 1)
        let sent = Date()
        let answerOfB = try #require(try shop.send("b", to: follower).wait(within: 10), "b was not answered").get()
        #expect(Date().timeIntervalSince(sent) >= 0.3, "b was refused before its wait ran out")
        #expect(answerOfB.status == 503 && answerOfB.errorCode == "busy", "\(answerOfB.status) \(answerOfB.text)")
        #expect(answerOfB.headers["retry-after"] != nil, "\(answerOfB.headers)")
        #expect(try shop.desk.store.order(sale: shop.sale.id, user: "b") == nil)
        #expect(eventually(within: 5) { shop.slot.remaining == before }, "b's unit was not given back")
        #expect(try !shop.queueEntries().contains { $0.pid == follower.process.pid && $0.code != .free })

        // Let go, the leader commits its group: a alone.
        leader.process.signal(SIGCONT)
        let answerOfA = try #require(a.wait(within: 10), "a was not answered once its leader went on").get()
        #expect(answerOfA.status == 201, "\(answerOfA.status) \(answerOfA.text)")
        #expect(try shop.orderUsers() == ["a"])
        #expect(try shop.storeRemaining() == Self.stock - 1)
        #expect(shop.slot.remaining == Self.stock - 1)
    }

    @Test func aFullCommitQueueRefusesAtOnceWithBusyAndChangesNothing() throws {
        let shop = try Shop(stock: Self.stock)
        defer { shop.remove() }
        // The held leader's own entry, claimed by itself, takes the one place of the queue.
        let leader = try shop.start([
            "FLASHSALE_PAUSE_AT": "before-transaction", "FLASHSALE_COMMIT_QUEUE": "1",
            "FLASHSALE_COMMIT_WAIT_MS": "5000",
        ])
        defer { leader.killAndReap() }
        // The longest wait there is, twice the bound below: a refusal within it came from the full queue.
        let follower = try shop.start(["FLASHSALE_COMMIT_QUEUE": "1", "FLASHSALE_COMMIT_WAIT_MS": "5000"])
        defer { follower.killAndReap() }

        let a = try shop.send("a", to: leader)
        try #require(eventually { leader.runState == "T" }, "the leader never stopped: \(a.described)")
        #expect(try shop.queueEntries(limit: 1).map(\.pid) == [leader.process.pid])
        let before = shop.slot.remaining
        let answerOfB = try #require(try shop.send("b", to: follower).wait(within: 2.5), "b was not refused at once")
            .get()
        #expect(answerOfB.status == 503 && answerOfB.errorCode == "busy", "\(answerOfB.status) \(answerOfB.text)")
        #expect(answerOfB.headers["retry-after"] != nil, "\(answerOfB.headers)")
        #expect(eventually(within: 5) { shop.slot.remaining == before }, "b's unit was not given back")
        #expect(try shop.orderUsers().isEmpty)
        #expect(try shop.storeRemaining() == Self.stock)
        #expect(try shop.queueEntries(limit: 1).map(\.pid) == [leader.process.pid])

        leader.process.signal(SIGCONT)
        let answerOfA = try #require(a.wait(within: 10), "a was not answered once its leader went on").get()
        #expect(answerOfA.status == 201, "\(answerOfA.status) \(answerOfA.text)")
        #expect(try shop.orderUsers() == ["a"])
        #expect(shop.slot.remaining == (try shop.storeRemaining()))
    }

    @Test func twoProcessesSellExactlyTheStockInGroupCommits() throws {
        let stock: Int64 = 25
        let shop = try Shop(stock: stock)
        defer { shop.remove() }
        let processes = [try shop.start([:]), try shop.start([:])]
        defer { processes.forEach { $0.killAndReap() } }

        let buyers = (0..<40).map { "buyer\($0)" }
        let requests = try buyers.enumerated().map { index, user in try shop.request(user, to: processes[index % 2]) }
        let answers = Mutex<[String: String]>([:])
        let finished = onThreads(buyers.count, within: 60) { index in
            let answer = (try? requests[index]()).map { "\($0.status) \($0.errorCode ?? "")" } ?? "no answer"
            answers.withLock { $0[buyers[index]] = answer }
        }
        #expect(finished)
        let heard = answers.withLock { $0 }
        let created = Set(heard.filter { $0.value.hasPrefix("201") }.keys)
        #expect(created.count == Int(stock), "\(heard)")
        #expect(heard.values.filter { $0 == "409 sold_out" }.count == buyers.count - Int(stock), "\(heard)")
        let users = try shop.orderUsers()
        #expect(Set(users) == created && users.count == created.count, "\(users)")
        #expect(try shop.storeRemaining() == 0)
        #expect(shop.slot.remaining == 0)
        let groups = shop.slot.count(.groupCommits)
        #expect((1...stock).contains(groups), "\(groups) group commits for \(stock) orders")
    }

    /// A sale in a data directory of its own, the order processes started on it, and the figures
    /// the tests check: the store's, the gate's and the commit queue's.
    struct Shop {
        let directory: TemporaryDirectory
        let data: DataDirectory
        let desk: EmbeddedDesk
        let sale: Sale
        let identities: TokenSigner
        let orderTokens: TokenSigner

        init(stock: Int64) throws {
            let directory = try TemporaryDirectory("crash")
            do {
                data = DataDirectory(path: directory.path + "/var")
                try data.initialize()
                let now = Self.nowMs()
                desk = try EmbeddedDesk(data: data, nowMs: now)
                sale = try desk.create(
                    NewSale(id: "crash", title: "Crash", price: 1, stock: stock, startsAt: now, endsAt: nil),
                    nowMs: now)
                identities = TokenSigner(secret: try data.keyBytes(data.identityKey))
                orderTokens = TokenSigner(secret: try data.keyBytes(data.secretKey))
            } catch {
                directory.remove()
                throw error
            }
            self.directory = directory
        }

        static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

        func remove() { directory.remove() }

        /// An order process on the data directory. Its slot is reconciled at start only, so that
        /// what the gate holds is the buyers' doing alone, until a test reconciles.
        func start(_ environment: [String: String]) throws -> FunctionProcess {
            try FunctionProcess(
                "order", maxBodyBytes: 2048, data: data.path,
                environment: environment.merging(["FLASHSALE_RECONCILE_INTERVAL_MS": "3600000"]) { own, _ in own })
        }

        /// `user`'s order, with an identity and an order token of their own, as a request to send.
        func request(_ user: String, to function: FunctionProcess) throws -> @Sendable () throws -> HTTPAnswer {
            let token = try orderTokens.sign(OrderTokenClaims(user: user, sale: sale.id, expires: Date() + 60))
            let identity = try identities.sign(UserClaims(user: user, expires: Date() + 60))
            let body = Array(#"{"sale":"\#(sale.id)","token":"\#(token)"}"#.utf8)
            let params = [
                "REQUEST_METHOD": "POST", "REQUEST_URI": OrderPaths.order(secret: sale.secret),
                "REMOTE_ADDR": "127.0.0.1", "CONTENT_TYPE": "application/json",
                "CONTENT_LENGTH": String(body.count), "HTTP_AUTHORIZATION": "Bearer \(identity)",
            ]
            let socketPath = function.socketPath
            return { try FastCGIClient.request(socketPath: socketPath, params: params, body: body) }
        }

        /// Sends `user`'s order on a thread of its own.
        func send(_ user: String, to function: FunctionProcess) throws -> PendingAnswer {
            PendingAnswer(try request(user, to: function))
        }

        /// The sale's slot in the gate.
        var slot: SaleSlot { desk.segment.slot(at: sale.slot) }

        func orderUsers() throws -> [String] { try desk.store.orders(ofSale: sale.id).map(\.user) }

        func storeRemaining() throws -> Int64 { try #require(try desk.store.sale(sale.id)).remaining }

        /// The first `limit` entries of the commit queue (256: the processes' default), read from
        /// the segment file: the processes map it shared, so its pages are their queue.
        func queueEntries(limit: Int = 256) throws -> [EntryState] {
            let size = SegmentLayout.CommitQueueEntry.size
            let bytes = try read(at: SegmentLayout.queueEntriesOffset, count: size * limit)
            return (0..<limit).map { index in
                EntryState(
                    raw: SegmentFile.load(
                        bytes, at: index * size + SegmentLayout.CommitQueueEntry.state, as: UInt64.self))
            }
        }

        /// The pid of the commit lease's holder; nil when nobody holds it.
        func leaseHolder() throws -> Int32? {
            let offset = SegmentLayout.queueOffset + SegmentLayout.CommitQueueHeader.lease
            let raw = SegmentFile.load(try read(at: offset, count: 8), at: 0, as: UInt64.self)
            return raw == 0 ? nil : CommitLease(raw: raw).pid
        }

        private func read(at offset: Int, count: Int) throws -> [UInt8] {
            let descriptor = open(data.segment, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
            defer { close(descriptor) }
            var bytes = [UInt8](repeating: 0, count: count)
            guard pread(descriptor, &bytes, count, off_t(offset)) == count else { throw POSIXError(.EIO) }
            return bytes
        }
    }

    /// A request sent on a thread of its own: its answer, or how it failed, once it ends.
    final class PendingAnswer: Sendable {
        private let result = Mutex<Result<HTTPAnswer, any Error>?>(nil)

        init(_ request: @escaping @Sendable () throws -> HTTPAnswer) {
            Thread { [self] in
                let ended = Result { try request() }
                result.withLock { $0 = ended }
            }.start()
        }

        /// The outcome, nil while the request is in flight.
        var outcome: Result<HTTPAnswer, any Error>? { result.withLock { $0 } }

        /// The outcome as a line for a failure message.
        var described: String { outcome?.debug ?? "in flight" }

        /// The outcome once the request ends within `seconds`; nil if it is still in flight.
        func wait(within seconds: Double) -> Result<HTTPAnswer, any Error>? {
            _ = eventually(within: seconds) { outcome != nil }
            return outcome
        }
    }
}

extension FunctionProcess {
    /// The process's state letter in `/proc/PID/stat` (`T` once stopped by a signal), or nil
    /// once it is gone.
    var runState: Character? {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        return stat[close...].dropFirst(2).first
    }

    func killAndReap() {
        process.signal(SIGKILL)
        process.reap()
    }

    /// Kills this leader and reaps it while `waiter` is held, so that the waiter finds the leader
    /// gone, never a zombie: a web server reaps its children at once, and a waiter that came in
    /// between would take the lease (a zombie leads no more) yet still commit the zombie's
    /// claimed entries (a zombie's entry has an owner).
    func killAndReap(holding waiter: FunctionProcess) throws {
        waiter.process.signal(SIGSTOP)
        defer { waiter.process.signal(SIGCONT) }
        try #require(eventually { waiter.runState == "T" }, "the waiter did not stop")
        killAndReap()
    }
}

extension Result<HTTPAnswer, any Error> {
    /// The outcome as a line for a failure message.
    fileprivate var debug: String {
        switch self {
        case .success(let answer): "\(answer.status) \(answer.text)"
        case .failure(let error): "failed: \(error)"
        }
    }
}
