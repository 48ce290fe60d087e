import Sales
import Testing

/// One order per user per sale, and a refused order or take changes nothing.
@Suite struct OrderContractTests {
    @Test(arguments: BackendKind.all)
    func aUserWhoOrderedIsRefusedTheSecondTimeAndNothingChanges(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backend = try storage.openBackend()
        let sale = try storage.openSale(stock: 5, on: [backend])
        let order = try storage.placeOrder(sale, user: "ann", on: backend)
        #expect(order.sale == sale.id && order.user == "ann")
        let before = try storage.stored(sale, on: backend)
        #expect(before.remaining == 4)
        #expect(throws: StoreError.alreadyOrdered) { try storage.placeOrder(sale, user: "ann", on: backend) }
        #expect(try storage.stored(sale, on: backend) == before)
        #expect(try storage.orders(of: sale, on: backend) == [order])
        #expect(try backend.inSession { session in try session.store.hasOrder(sale: sale.id, user: "ann") })
        #expect(try !backend.inSession { session in try session.store.hasOrder(sale: sale.id, user: "bob") })
    }

    @Test(arguments: BackendKind.all)
    func aUserOrderingFromEveryBackendAtOnceGetsOneOrder(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(Crowd.backends)
        let sale = try storage.openSale(stock: 10, on: backends)
        let outcomes = Outcomes()
        #expect(
            onCrowd(backends) { _, backend in
                for _ in 0..<5 {
                    outcomes.record("ordered") { try storage.placeOrder(sale, user: "ann", on: backend) }
                }
            })
        #expect(outcomes.all == ["ordered": 1, "alreadyOrdered": 5 * Crowd.threads - 1])
        #expect(try storage.orders(of: sale, on: backends[1]).map(\.user) == ["ann"])
        #expect(try storage.stored(sale, on: backends[2]).remaining == 9)
    }

    @Test(arguments: BackendKind.all)
    func anOrderRefusedAsSoldOutChangesNothing(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(2)
        let sale = try storage.openSale(stock: 2, on: backends)
        let stock = try storage.stock(of: sale, on: backends[0])
        for user in ["ann", "bob"] {
            #expect(stock.takeOne())
            try storage.placeOrder(sale, user: user, on: backends[0])
        }
        let stored = try storage.stored(sale, on: backends[0])
        let orders = try storage.orders(of: sale, on: backends[0])
        for backend in backends {
            #expect(throws: StoreError.soldOut) { try storage.placeOrder(sale, user: "cat", on: backend) }
            // One who ordered, late again, may hear either refusal.
            let again = #expect(throws: StoreError.self) { try storage.placeOrder(sale, user: "ann", on: backend) }
            #expect(again == .soldOut || again == .alreadyOrdered)
        }
        #expect(try storage.stored(sale, on: backends[1]) == stored)
        #expect(stored.remaining == 0)
        #expect(try storage.orders(of: sale, on: backends[1]) == orders)
        #expect(try !backends[1].inSession { session in try session.store.hasOrder(sale: sale.id, user: "cat") })
        #expect(try storage.stock(of: sale, on: backends[1]).remaining == 0)
    }

    @Test(arguments: BackendKind.all)
    func aTakeFromEmptyStockIsRefusedAndLeavesItEmpty(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(2)
        let sale = try storage.openSale(stock: 1, on: backends)
        let stock = try storage.stock(of: sale, on: backends[0])
        #expect(!stock.isSoldOut)
        #expect(stock.takeOne())
        #expect(stock.isSoldOut)
        for backend in backends {
            let seen = try storage.stock(of: sale, on: backend)
            for _ in 0..<3 { #expect(!seen.takeOne()) }
            #expect(seen.remaining == 0)
            #expect(seen.isSoldOut)
        }
    }

    @Test(arguments: BackendKind.all)
    func anOrderForNoSuchSaleIsRefusedAndCreatesNothing(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backend = try storage.openBackend()
        let sale = try storage.openSale(stock: 2, on: [backend])
        #expect(throws: StoreError.unknownSale("nope")) {
            try backend.inSession { session in try session.store.placeOrder(sale: "nope", user: "ann", nowMs: 0) }
        }
        #expect(try backend.inSession { session in try session.store.sale("nope") } == nil)
        #expect(try storage.stored(sale, on: backend).remaining == 2)
        #expect(try storage.orders(of: sale, on: backend).isEmpty)
    }
}
