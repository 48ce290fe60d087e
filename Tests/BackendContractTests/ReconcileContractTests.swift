import Sales
import Testing

/// Undersell only transiently: units taken from the gate without an order come back, and the
/// gate only ever copies the store.
@Suite struct ReconcileContractTests {
    @Test(arguments: BackendKind.all)
    func unitsHeldByAProcessThatDiedComeBackWithTheNextReconciliation(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(2)
        let sale = try storage.openSale(stock: 5, on: backends)
        let dying = try storage.stock(of: sale, on: backends[0])
        #expect(dying.takeOne())
        try storage.placeOrder(sale, user: "ann", on: backends[0])
        // Two more units taken, and the process dies before their orders.
        #expect(dying.takeOne() && dying.takeOne())
        #expect(dying.remaining == 2)
        storage.clock.advance(by: storage.reconcileIntervalMs)
        let stock = try storage.stock(of: sale, on: backends[1])
        #expect(stock.remaining == 4)
        #expect(try storage.stored(sale, on: backends[1]).remaining == 4)
        #expect(stock.lastReconciledMs == storage.clock.nowMs)
    }

    @Test(arguments: BackendKind.all)
    func aReconciliationThatFindsStockClearsSoldOut(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(2)
        let sale = try storage.openSale(stock: 2, on: backends)
        let dying = try storage.stock(of: sale, on: backends[0])
        #expect(dying.takeOne() && dying.takeOne() && !dying.takeOne())
        #expect(dying.isSoldOut)
        storage.clock.advance(by: storage.reconcileIntervalMs)
        let stock = try storage.stock(of: sale, on: backends[1])
        #expect(stock.remaining == 2)
        #expect(!stock.isSoldOut)
        #expect(stock.takeOne())
    }

    @Test(arguments: BackendKind.all)
    func aFailedOrderGivesItsUnitBack(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backend = try storage.openBackend()
        let sale = try storage.openSale(stock: 5, on: [backend])
        try storage.placeOrder(sale, user: "ann", on: backend)
        let remaining = try backend.inSession { session in
            let now = storage.clock.nowMs
            let stock = try session.stock(of: sale, nowMs: now)
            #expect(stock.takeOne())
            #expect(throws: StoreError.alreadyOrdered) {
                try session.store.placeOrder(sale: sale.id, user: "ann", nowMs: now)
            }
            session.returnUnit(of: sale, stock: stock, soldOutInStore: false, nowMs: now)
            return stock.remaining
        }
        #expect(remaining == 5)
    }

    /// The store sold the last units while the gate still counted them (it is only a copy): the
    /// order the store found sold out leaves the gate at the store's zero.
    @Test(arguments: BackendKind.all)
    func anOrderTheStoreFoundSoldOutBringsTheGateToTheStore(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backend = try storage.openBackend()
        let sale = try storage.openSale(stock: 2, on: [backend])
        for user in ["ann", "bob"] { try storage.placeOrder(sale, user: user, on: backend) }
        let stock = try backend.inSession { session in
            let now = storage.clock.nowMs
            let stock = try session.stock(of: sale, nowMs: now)
            #expect(stock.takeOne())
            #expect(throws: StoreError.soldOut) { try session.store.placeOrder(sale: sale.id, user: "cat", nowMs: now) }
            session.returnUnit(of: sale, stock: stock, soldOutInStore: true, nowMs: now)
            return stock
        }
        #expect(stock.remaining == 0)
        #expect(stock.isSoldOut)
        #expect(!stock.takeOne())
    }

    /// A unit counted back by a reconciliation and then given back by its late order is not
    /// counted twice: the gate never holds more than the stock.
    @Test(arguments: BackendKind.all)
    func aUnitGivenBackAfterAReconciliationIsNotCountedTwice(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(2)
        let sale = try storage.openSale(stock: 3, on: backends)
        let slow = try storage.stock(of: sale, on: backends[0])
        #expect(slow.takeOne())
        storage.clock.advance(by: storage.reconcileIntervalMs)
        #expect(try storage.stock(of: sale, on: backends[1]).remaining == 3)
        slow.giveBack()
        #expect(slow.remaining == 3)
        #expect(try storage.stock(of: sale, on: backends[1]).remaining == 3)
    }

    @Test(arguments: BackendKind.all)
    func aGateStockFoundForTheSaleIdAloneIsReconciledToo(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(2)
        let sale = try storage.openSale(stock: 4, on: backends)
        let dying = try storage.stock(of: sale, on: backends[0])
        #expect(dying.takeOne())
        storage.clock.advance(by: storage.reconcileIntervalMs)
        let now = storage.clock.nowMs
        let found = try backends[1].inSession { session in try session.stock(saleID: sale.id, nowMs: now) }
        #expect(found?.terms() == sale.stockTerms)
        #expect(found?.remaining == 4)
    }
}
