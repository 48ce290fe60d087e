import Sales
import TestSupport
import Testing

/// Never oversell: the gate's takes and the store's orders stop at the stock, whoever asks at once.
@Suite struct StockContractTests {
    /// Each thread takes from its backend's stock, held outside `inSession` so that the takes meet.
    @Test(arguments: BackendKind.all)
    func theGateNeverTakesBelowZeroWhateverTakesAtOnce(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(Crowd.backends)
        let calls = storage.gateCallsPerThread
        let units = Int64(calls * Crowd.threads / 2)
        let sale = try storage.openSale(stock: units, on: backends)
        let stocks = try backends.map { try storage.stock(of: sale, on: $0) }
        let outcomes = Outcomes()
        let lowest = Lowest()
        #expect(
            onThreads(Crowd.threads) { thread in
                let stock = stocks[thread % stocks.count]
                var tally: [String: Int] = [:]
                var lowestSeen = Int64.max
                for _ in 0..<calls {
                    tally[stock.takeOne() ? "taken" : "none left", default: 0] += 1
                    lowestSeen = min(lowestSeen, stock.remaining)
                }
                outcomes.add(tally)
                lowest.see(lowestSeen)
            })
        #expect(outcomes.all == ["taken": Int(units), "none left": calls * Crowd.threads - Int(units)])
        #expect(lowest.seen == 0)
        for backend in backends {
            let stock = try storage.stock(of: sale, on: backend)
            #expect(stock.remaining == 0)
            #expect(stock.isSoldOut)
        }
    }

    @Test(arguments: BackendKind.all)
    func theStoreNeverSellsBelowZeroWhateverOrdersAtOnce(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(Crowd.backends)
        let sale = try storage.openSale(stock: 20, on: backends)
        let outcomes = Outcomes()
        #expect(
            onCrowd(backends) { thread, backend in
                for buyer in 0..<10 {
                    outcomes.record("ordered") {
                        try storage.placeOrder(sale, user: "buyer-\(thread)-\(buyer)", on: backend)
                    }
                }
            })
        #expect(outcomes.all == ["ordered": 20, "soldOut": 60])
        let orders = try storage.orders(of: sale, on: backends[1])
        #expect(orders.count == 20)
        #expect(Set(orders.map(\.user)).count == 20)
        #expect(try storage.stored(sale, on: backends[2]).remaining == 0)
    }

    /// The buying path: a unit from the gate, then the order in the store; a failed order gives
    /// its unit back. The gate and the store end at zero together.
    @Test(arguments: BackendKind.all)
    func takingThenOrderingSellsTheStockExactlyOnce(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(Crowd.backends)
        let sale = try storage.openSale(stock: 20, on: backends)
        let outcomes = Outcomes()
        #expect(
            onCrowd(backends) { thread, backend in
                for buyer in 0..<10 {
                    outcomes.record("ordered") {
                        let user = "buyer-\(thread)-\(buyer)"
                        try backend.inSession { try buyOne(of: sale, user: user, in: $0, nowMs: storage.clock.nowMs) }
                    }
                }
            })
        #expect(outcomes.all == ["ordered": 20, "none left": 60])
        #expect(try storage.orders(of: sale, on: backends[0]).count == 20)
        #expect(try storage.stored(sale, on: backends[0]).remaining == 0)
        #expect(try storage.stock(of: sale, on: backends[3]).remaining == 0)
    }

    @Test(arguments: BackendKind.all)
    func eachSaleHasStockOfItsOwn(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backend = try storage.openBackend()
        let spring = try storage.createSale("spring", stock: 3, on: backend)
        let autumn = try storage.createSale("autumn", stock: 5, on: backend)
        let springStock = try storage.stock(of: spring, on: backend)
        let autumnStock = try storage.stock(of: autumn, on: backend)
        for _ in 0..<3 { #expect(springStock.takeOne()) }
        #expect(!springStock.takeOne())
        #expect(autumnStock.remaining == 5)
        #expect(!autumnStock.isSoldOut)
        try storage.placeOrder(autumn, user: "ann", on: backend)
        #expect(try storage.stored(spring, on: backend).remaining == 3)
    }
}
