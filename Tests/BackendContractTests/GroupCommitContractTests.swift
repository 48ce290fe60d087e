import Sales
import Synchronization
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
        return try backend.serially { session in try session.store.placeOrders(group) }
    }
}
