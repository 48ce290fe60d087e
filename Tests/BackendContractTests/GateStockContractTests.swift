import Sales
import Synchronization
import TestSupport
import Testing

/// What the gate holds of a sale besides its units: its terms, counters and reconciliation claim.
@Suite struct GateStockContractTests {
    @Test(arguments: BackendKind.all)
    func theGateHoldsTheTermsAndStockItIsConfiguredWith(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(2)
        let sale = try storage.openSale(stock: 8, on: backends)
        let stock = try storage.stock(of: sale, on: backends[0])
        #expect(stock.terms() == sale.stockTerms)
        #expect(stock.remaining == 8)
        #expect(stock.lastReconciledMs == storage.clock.nowMs)
        let elsewhere = try backends[1].inSession { $0.gate.stock(of: sale) }
        stock.reconcile(remaining: 5, nowMs: storage.clock.nowMs + 1)
        #expect(elsewhere.remaining == 5)
        #expect(elsewhere.lastReconciledMs == storage.clock.nowMs + 1)
        var terms = sale.stockTerms
        terms.stock = 3
        stock.configure(terms, remaining: 2, nowMs: storage.clock.nowMs + 2)
        #expect(elsewhere.terms() == terms)
        #expect(elsewhere.remaining == 2)
    }

    /// Nothing in the gate is trusted over the store: stock under other terms is rebuilt from it.
    @Test(arguments: BackendKind.all)
    func stockUnderOtherTermsIsRebuiltFromTheStore(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(2)
        let sale = try storage.openSale(stock: 6, on: backends)
        try storage.placeOrder(sale, user: "ann", on: backends[0])
        let stale = try storage.stock(of: sale, on: backends[0])
        var wrong = sale.stockTerms
        wrong.stock = 1_000
        stale.configure(wrong, remaining: 1_000, nowMs: storage.clock.nowMs)
        let stock = try storage.stock(of: sale, on: backends[1])
        #expect(stock.terms() == sale.stockTerms)
        #expect(stock.remaining == 5)
    }

    /// Every thread on every backend claims the next reconciliation of the same 50 sales, in the
    /// same order, all at one time: each sale's is claimed by exactly one.
    @Test(arguments: BackendKind.all)
    func oneCallerClaimsEachReconciliation(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(Crowd.backends)
        let sales = try (0..<50).map { try storage.createSale("sale-\($0)", stock: 4, on: backends[0]) }
        let stocks = try backends.map { backend in try sales.map { try storage.stock(of: $0, on: backend) } }
        let interval = storage.reconcileIntervalMs
        let due = storage.clock.nowMs + interval
        #expect(!stocks[0][0].claimReconciliation(nowMs: due - 1, intervalMs: interval))
        let claims = Mutex<[Int: Int]>([:])
        #expect(
            onThreads(Crowd.threads) { thread in
                var claimed: [Int] = []
                for (index, stock) in stocks[thread % stocks.count].enumerated()
                where stock.claimReconciliation(nowMs: due, intervalMs: interval) {
                    claimed.append(index)
                }
                claims.withLock { claims in
                    for index in claimed { claims[index, default: 0] += 1 }
                }
            })
        #expect(claims.withLock { $0 } == Dictionary(uniqueKeysWithValues: sales.indices.map { ($0, 1) }))
        #expect(!stocks[1][0].claimReconciliation(nowMs: due + interval - 1, intervalMs: interval))
        #expect(stocks[2][0].claimReconciliation(nowMs: due + interval, intervalMs: interval))
    }

    @Test(arguments: BackendKind.all)
    func countersAddUpAcrossBackends(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(Crowd.backends)
        let sale = try storage.openSale(stock: 4, on: backends)
        let stocks = try backends.map { try storage.stock(of: sale, on: $0) }
        #expect(SaleCounter.allCases.allSatisfy { stocks[0].count($0) == 0 })
        let calls = storage.gateCallsPerThread
        #expect(
            onThreads(Crowd.threads) { thread in
                for _ in 0..<calls {
                    stocks[thread % stocks.count].increment(.attempts)
                    stocks[thread % stocks.count].add(.rejectedSoldOut, 3)
                }
            })
        #expect(stocks[1].count(.attempts) == Int64(calls * Crowd.threads))
        #expect(stocks[2].count(.rejectedSoldOut) == Int64(3 * calls * Crowd.threads))
        #expect(stocks[3].count(.orders) == 0)
    }

    @Test(arguments: BackendKind.all)
    func theGateAloneAnswersNothingForASaleItDoesNotHold(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backend = try storage.openBackend()
        let sale = try storage.openSale(stock: 4, on: [backend])
        let now = storage.clock.nowMs
        let found = try backend.inSession { session in try session.stock(saleID: sale.id, nowMs: now) }
        #expect(found?.terms() == sale.stockTerms)
        #expect(try backend.inSession { session in try session.stock(saleID: "autumn", nowMs: now) } == nil)
        #expect(try !backend.inSession { $0.hasFaulted })
    }
}
