import Sales
import Testing

/// What the store keeps of sales, and what a session finds of them.
@Suite struct SaleStoreContractTests {
    @Test(arguments: BackendKind.all)
    func aCreatedSaleIsStoredAsGivenWithAFreshSecret(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(2)
        let questions = [SaleQuestion(question: "Capital of France?", answer: "Paris")]
        let spring = try storage.createSale("spring", stock: 7, on: backends[0], questions: questions)
        #expect(spring.id == "spring" && spring.title == "Sale spring" && spring.price == 1_999)
        #expect(spring.stock == 7 && spring.remaining == 7 && spring.sold == 0)
        #expect(spring.captcha == .question)
        #expect(spring.secret.count >= 16)
        storage.clock.advance(by: 1)
        let summer = try storage.createSale("summer", stock: 1, on: backends[0])
        #expect(summer.secret != spring.secret)
        #expect(summer.slot != spring.slot)
        #expect(try storage.stored(spring, on: backends[1]) == spring)
        #expect(try backends[1].inSession { try $0.store.sales() }.map(\.id) == ["spring", "summer"])
        #expect(try backends[1].inSession { try $0.store.questions(ofSale: "spring") } == questions)
        #expect(try backends[1].inSession { try $0.questions(of: spring) } == questions)
        #expect(try backends[1].inSession { try $0.store.sale("autumn") } == nil)
    }

    @Test(arguments: BackendKind.all)
    func aDuplicateOrInvalidSaleIsRefusedAndNothingIsStored(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backend = try storage.openBackend()
        let spring = try storage.createSale("spring", stock: 3, on: backend)
        #expect(throws: StoreError.duplicateSale("spring")) { try storage.createSale("spring", stock: 9, on: backend) }
        let invalid = [
            NewSale(id: "Bad Id", title: "x", price: 1, stock: 1, startsAt: 0, endsAt: nil),
            NewSale(id: "empty", title: "x", price: 1, stock: 0, startsAt: 0, endsAt: nil),
            NewSale(id: "backwards", title: "x", price: 1, stock: 1, startsAt: 10, endsAt: 5),
        ]
        for new in invalid {
            let error = #expect(throws: StoreError.self) {
                try backend.inSession { session in try session.store.create(new, nowMs: storage.clock.nowMs) }
            }
            guard case .invalid = error else {
                Issue.record("\(new.id) was refused as \(String(describing: error)), not as invalid")
                continue
            }
        }
        #expect(try backend.inSession { try $0.store.sales() } == [spring])
    }

    @Test(arguments: BackendKind.all)
    func replacingASaleStartsItOverWithNoOrdersAndANewSecret(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backend = try storage.openBackend()
        let old = try storage.openSale(stock: 3, on: [backend])
        try storage.placeOrder(old, user: "ann", on: backend)
        let now = storage.clock.nowMs
        let new = NewSale(id: old.id, title: "Again", price: 500, stock: 6, startsAt: now, endsAt: now + 60_000)
        let replaced = try backend.inSession { session in try session.store.replace(new, nowMs: now) }
        #expect(replaced.slot == old.slot)
        #expect(replaced.secret != old.secret)
        #expect(replaced.title == "Again" && replaced.stock == 6 && replaced.remaining == 6)
        #expect(try storage.orders(of: replaced, on: backend).isEmpty)
        #expect(try storage.stock(of: replaced, on: backend).remaining == 6)
        try storage.placeOrder(replaced, user: "ann", on: backend)
    }

    @Test(arguments: BackendKind.all)
    func aSessionFindsASaleByItsIdOrSecretFromAnyBackend(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(2)
        let sale = try storage.createSale(stock: 3, on: backends[0])
        let now = storage.clock.nowMs
        let byID = try backends[1].inSession { try $0.sale(id: sale.id, nowMs: now) }
        let bySecret = try backends[1].inSession { try $0.sale(secret: sale.secret, nowMs: now) }
        for found in [byID, bySecret] {
            #expect(found?.id == sale.id && found?.secret == sale.secret && found?.slot == sale.slot)
            #expect(found?.stockTerms == sale.stockTerms)
        }
        #expect(try backends[1].inSession { try $0.sale(id: "autumn", nowMs: now) } == nil)
        #expect(try backends[1].inSession { try $0.sale(secret: "not-\(sale.secret)", nowMs: now) } == nil)
    }

    @Test(arguments: BackendKind.all)
    func ordersAreListedOldestFirst(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(2)
        let sale = try storage.openSale(stock: 5, on: backends)
        var placed: [Order] = []
        for (index, user) in ["cat", "ann", "bob"].enumerated() {
            placed.append(try storage.placeOrder(sale, user: user, on: backends[index % 2]))
            storage.clock.advance(by: 10)
        }
        #expect(try storage.orders(of: sale, on: backends[0]) == placed)
        #expect(placed.map(\.createdAt) == [0, 10, 20].map { TestClock.start + $0 })
        #expect(Set(placed.map(\.id)).count == 3)
    }
}
