import Sales
import Synchronization
import TestSupport
import Testing

/// A group of won orders committed at once: one outcome per entry, each sale's units taken once
/// for the group and never below zero, one order per user within the group and across groups.
@Suite struct GroupCommitContractTests {
    @Test(arguments: BackendKind.all)
    func anEmptyGroupChangesNothing(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backend = try storage.openBackend()
        let sale = try storage.openSale(stock: 3, on: [backend])
        let before = try storage.stored(sale, on: backend)
        #expect(try storage.placeOrders([], on: backend).isEmpty)
        #expect(try storage.stored(sale, on: backend) == before)
        #expect(try storage.orders(of: sale, on: backend).isEmpty)
    }

    @Test(arguments: BackendKind.all)
    func aUsersSecondEntryInTheGroupOrAfterAnEarlierOrderIsAlreadyOrdered(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backend = try storage.openBackend()
        let sale = try storage.openSale(stock: 5, on: [backend])
        let earlier = try storage.placeOrder(sale, user: "cat", on: backend)
        let outcomes = try storage.placeOrders(["ann", "bob", "ann", "cat"].map { (sale, $0) }, on: backend)
        #expect(outcomes.map(Self.name) == ["placed", "placed", "alreadyOrdered", "alreadyOrdered"])
        #expect(Self.users(outcomes) == ["ann", "bob"])
        #expect(try storage.stored(sale, on: backend).remaining == 2)
        let orders = try storage.orders(of: sale, on: backend)
        #expect(orders.map(\.user) == ["cat", "ann", "bob"] && orders.first == earlier)
    }

    @Test(arguments: BackendKind.all)
    func aGroupLargerThanTheUnitsLeftPlacesTheFirstAndRefusesTheRest(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(2)
        let sale = try storage.openSale(stock: 3, on: backends)
        let users = ["ann", "bob", "cat", "dan", "eve"]
        let outcomes = try storage.placeOrders(users.map { (sale, $0) }, on: backends[0])
        #expect(outcomes.map(Self.name) == ["placed", "placed", "placed", "soldOut", "soldOut"])
        #expect(try storage.stored(sale, on: backends[1]).remaining == 0)
        #expect(try storage.orders(of: sale, on: backends[1]).map(\.user) == ["ann", "bob", "cat"])
        let after = try storage.stored(sale, on: backends[1])
        #expect(try storage.placeOrders([(sale, "fay")], on: backends[1]).map(Self.name) == ["soldOut"])
        #expect(try storage.stored(sale, on: backends[0]) == after)
    }

    @Test(arguments: BackendKind.all)
    func aGroupSpanningSalesTakesFromEachItsOwnAndNamesAnUnknownSale(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backend = try storage.openBackend()
        let spring = try storage.createSale("spring", stock: 1, on: backend)
        let summer = try storage.createSale("summer", stock: 2, on: backend)
        var ghost = summer
        ghost.id = "ghost"
        let outcomes = try storage.placeOrders(
            [(spring, "ann"), (summer, "ann"), (ghost, "ann"), (spring, "bob"), (summer, "bob")], on: backend)
        #expect(outcomes.map(Self.name) == ["placed", "placed", "unknownSale", "soldOut", "placed"])
        #expect(try storage.stored(spring, on: backend).remaining == 0)
        #expect(try storage.stored(summer, on: backend).remaining == 0)
        #expect(try storage.orders(of: summer, on: backend).map(\.user) == ["ann", "bob"])
    }

    @Test(arguments: BackendKind.all)
    func groupsCommittedAtOnceFromEveryBackendNeverSellBelowZero(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(Crowd.backends)
        let sale = try storage.openSale(stock: 30, on: backends)
        let placed = Mutex<[String]>([])
        let refused = Atomic<Int>(0)
        #expect(
            onCrowd(backends) { thread, backend in
                for group in 0..<4 {
                    // Five new buyers and one of the thread's earlier ones again.
                    let users = (0..<5).map { "buyer-\(thread)-\(group)-\($0)" } + ["buyer-\(thread)-0-0"]
                    guard let outcomes = try? storage.placeOrders(users.map { (sale, $0) }, on: backend) else {
                        continue
                    }
                    placed.withLock { $0 += Self.users(outcomes) }
                    refused.add(outcomes.count - Self.users(outcomes).count, ordering: .relaxed)
                }
            })
        let users = placed.withLock { $0 }
        #expect(users.count == 30 && Set(users).count == 30)
        #expect(refused.load(ordering: .relaxed) == Crowd.threads * 4 * 6 - 30)
        #expect(try storage.stored(sale, on: backends[1]).remaining == 0)
        #expect(try Set(storage.orders(of: sale, on: backends[2]).map(\.user)) == Set(users))
    }

    @Test(arguments: BackendKind.all)
    func buyersCommittingAtOnceFromEveryBackendNeverSellMoreThanTheStock(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(Crowd.backends)
        let sale = try storage.openSale(stock: 20, on: backends)
        let attempts = 25
        let outcomes = Outcomes()
        let answered = Mutex<[Order]>([])
        #expect(
            onCrowd(backends) { thread, backend in
                var tally: [String: Int] = [:]
                var mine: [Order] = []
                for attempt in 0..<attempts {
                    // Threads 2k and 2k + 1, on different backends, try the same buyers at once.
                    let user = "buyer-\(thread / 2)-\(attempt)"
                    do {
                        mine.append(try storage.commitOrder(sale, user: user, on: backend))
                        tally["placed", default: 0] += 1
                    } catch {
                        tally[Outcomes.name(of: error), default: 0] += 1
                    }
                }
                outcomes.add(tally)
                answered.withLock { $0 += mine }
            })
        let tally = outcomes.all
        let orders = try storage.orders(of: sale, on: backends[1])
        #expect(!orders.isEmpty && orders.count <= 20)
        #expect(Set(orders.map(\.user)).count == orders.count)
        #expect(answered.withLock { $0 }.sorted { $0.id < $1.id } == orders)
        #expect(Set(tally.keys).isSubset(of: ["placed", "alreadyOrdered", "none left"]))
        #expect(tally["placed"] == orders.count && tally.values.reduce(0, +) == Crowd.threads * attempts)
        #expect(try storage.stored(sale, on: backends[2]).remaining == 20 - Int64(orders.count))
        let gate = try storage.stock(of: sale, on: backends[3])
        #expect(gate.remaining == 20 - Int64(orders.count))
        // Each group holds one entry at least; a group whose entries were all refused (a buyer's
        // second order) is counted too, so the bound is the entries the store decided, not the orders.
        let decided = orders.count + tally["alreadyOrdered", default: 0]
        let groups = Int(gate.count(.groupCommits))
        #expect(groups >= 1 && groups <= decided)
    }

    @Test(arguments: BackendKind.all)
    func aGateHoldingUnitsTheStoreSoldElsewhereSellsOnlyTheStoresUnits(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(Crowd.backends)
        let sale = try storage.openSale(stock: 20, on: backends)
        // Orders written to the store alone: the gate still holds all 20 units, the store 5.
        for buyer in 0..<15 { try storage.placeOrder(sale, user: "earlier-\(buyer)", on: backends[0]) }
        let outcomes = Outcomes()
        #expect(
            onCrowd(backends) { thread, backend in
                var tally: [String: Int] = [:]
                for attempt in 0..<10 {
                    let user = "buyer-\(thread)-\(attempt)"
                    do {
                        try storage.commitOrder(sale, user: user, on: backend)
                        tally["placed", default: 0] += 1
                    } catch {
                        tally[Outcomes.name(of: error), default: 0] += 1
                    }
                }
                outcomes.add(tally)
            })
        let tally = outcomes.all
        #expect(tally["placed"] == 5 && tally["soldOut", default: 0] >= 1)
        #expect(Set(tally.keys).isSubset(of: ["placed", "soldOut", "none left"]))
        #expect(try storage.stored(sale, on: backends[1]).remaining == 0)
        let orders = try storage.orders(of: sale, on: backends[2])
        #expect(orders.count == 20 && Set(orders.map(\.user)).count == 20)
    }

    @Test(arguments: BackendKind.all)
    func aUsersSecondOrderFromAnyBackendIsAlreadyOrderedAndChangesNothing(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(2)
        let sale = try storage.openSale(stock: 3, on: backends)
        let first = try #require(try storage.commitOrderWithinTime(sale, user: "ann", on: backends[0])?.get())
        #expect(first.sale == sale.id && first.user == "ann" && first.status == "placed")
        let stored = try storage.stored(sale, on: backends[0])
        let gate = try storage.stock(of: sale, on: backends[0])
        #expect(stored.remaining == 2 && gate.remaining == 2)
        for backend in backends {
            let again = try #require(storage.commitOrderWithinTime(sale, user: "ann", on: backend))
            #expect(throws: StoreError.alreadyOrdered) { try again.get() }
        }
        #expect(try storage.stored(sale, on: backends[1]) == stored)
        #expect(try storage.orders(of: sale, on: backends[1]) == [first])
        #expect(gate.remaining == 2)
    }

    @Test(arguments: BackendKind.all)
    func anEntryCommittedAgainWithItsTicketAnswersItsOrderAndTakesNothing(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(2)
        let sale = try storage.openSale(stock: 1, on: backends)
        let placed = storage.commitOrderWithinTime(sale, user: "ann", ticket: 42, on: backends[0])
        let first = try #require(try placed?.get())
        let stored = try storage.stored(sale, on: backends[0])
        #expect(stored.remaining == 0)
        let entry = OrderEntry(sale: sale.id, user: "ann", nowMs: storage.clock.nowMs, ticket: 42)
        let again = try #require(withinTime { try backends[1].inSession { session in try session.placeOrder(entry) } })
        #expect(try again.get() == first)
        #expect(try storage.stored(sale, on: backends[1]) == stored)
        #expect(try storage.orders(of: sale, on: backends[1]) == [first])
    }

    @Test(arguments: BackendKind.all)
    func anOrderOfAnUnknownSaleIsUnknownSaleAndChangesNothing(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backend = try storage.openBackend()
        let sale = try storage.openSale(stock: 3, on: [backend])
        let stored = try storage.stored(sale, on: backend)
        let entry = OrderEntry(sale: "ghost", user: "ann", nowMs: storage.clock.nowMs)
        let answer = try #require(withinTime { try backend.inSession { session in try session.placeOrder(entry) } })
        #expect(throws: StoreError.unknownSale("ghost")) { try answer.get() }
        #expect(try storage.stored(sale, on: backend) == stored)
        #expect(try storage.orders(of: sale, on: backend).isEmpty)
    }

    static func name(_ outcome: OrderOutcome) -> String {
        switch outcome {
        case .placed: "placed"
        case .alreadyOrdered: "alreadyOrdered"
        case .soldOut: "soldOut"
        case .unknownSale: "unknownSale"
        }
    }

    /// The users whose entries were placed, in the group's order.
    static func users(_ outcomes: [OrderOutcome]) -> [String] {
        outcomes.compactMap { outcome in
            if case .placed(let order) = outcome { return order.user }
            return nil
        }
    }
}

extension ContractStorage {
    /// Commits `entries` (sale, user) as one group through `backend`'s store, now.
    func placeOrders(_ entries: [(Sale, String)], on backend: any SaleBackend) throws -> [OrderOutcome] {
        let now = clock.nowMs
        let group = entries.map { OrderEntry(sale: $0.0.id, user: $0.1, nowMs: now) }
        return try backend.inSession { session in try session.store.placeOrders(group) }
    }
}

extension ContractStorage {
    /// One buyer's order as the order function places it, now: a unit from `backend`'s gate, then
    /// the order committed in a group through the commit queue (``BackendSession/placeOrder(_:)``);
    /// an order that fails gives its unit back, unless it may have been committed all the same.
    @discardableResult
    func commitOrder(_ sale: Sale, user: String, ticket: Int64? = nil, on backend: any SaleBackend) throws -> Order {
        let now = clock.nowMs
        return try backend.inSession { session in
            let stock = try session.stock(of: sale, nowMs: now)
            guard stock.takeOne() else { throw TakeRefused() }
            do throws(StoreError) {
                return try session.placeOrder(OrderEntry(sale: sale.id, user: user, nowMs: now, ticket: ticket))
            } catch {
                if !error.orderKept {
                    session.returnUnit(of: sale, stock: stock, soldOutInStore: error == .soldOut, nowMs: now)
                }
                throw error
            }
        }
    }

    /// ``commitOrder(_:user:ticket:on:)`` within a time bound (see ``withinTime(_:)``).
    func commitOrderWithinTime(
        _ sale: Sale, user: String, ticket: Int64? = nil, on backend: any SaleBackend
    ) -> Result<Order, any Error>? {
        withinTime { try self.commitOrder(sale, user: user, ticket: ticket, on: backend) }
    }
}

/// What `body` answered, run on a thread of its own; nil when it did not finish within 30
/// seconds. A commit waits by the test's clock, which stands still: a commit that never finishes
/// fails the test instead of hanging it.
func withinTime<T: Sendable>(_ body: @escaping @Sendable () throws -> T) -> Result<T, any Error>? {
    let answer = Mutex<Result<T, any Error>?>(nil)
    let finished = onThreads(1, within: 30) { _ in
        let result = Result { try body() }
        answer.withLock { $0 = result }
    }
    return finished ? answer.withLock { $0 } : nil
}
