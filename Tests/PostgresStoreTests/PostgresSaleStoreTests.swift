import Basics
import Foundation
import PostgreSQL
import PostgresStore
import Sales
import Synchronization
import TestSupport
import Testing

/// The PostgreSQL store against a real server the test starts: what the embedded store
/// promises (its groups, one order per user, never below zero), over several connections at
/// once as several hosts would hold them, and across a lost server.
@Suite struct PostgresSaleStoreTests {
    /// A store on a database of its own on the shared server.
    private func freshStore(_ synchronous: Durability = .full) throws -> (PostgresSaleStore, url: String) {
        let url = try PostgresServer.shared().createDatabase("store_\(randomName())")
        return (try PostgresSaleStore(url: url, synchronous: synchronous), url)
    }

    private func randomName() -> String { String(UInt64.random(in: 0...UInt64.max), radix: 36) }

    private func sale(_ id: String, stock: Int64) -> NewSale {
        NewSale(id: id, title: "Sale \(id)", price: 1_999, stock: stock, startsAt: 0, endsAt: nil)
    }

    private func name(_ outcome: OrderOutcome) -> String {
        switch outcome {
        case .placed: "placed"
        case .alreadyOrdered: "alreadyOrdered"
        case .soldOut: "soldOut"
        case .unknownSale: "unknownSale"
        }
    }

    @Test func aSaleIsStoredAsGivenInTheNextSlotAndADuplicateIsRefused() throws {
        let (store, url) = try freshStore()
        let questions = [SaleQuestion(question: "Capital of France? \"Paris\"", answer: "Paris ✓")]
        var new = sale("spring", stock: 7)
        new.captcha = .question
        new.questions = questions
        new.endsAt = 60_000
        let spring = try store.create(new, nowMs: 5)
        #expect(spring.slot == 0 && spring.stock == 7 && spring.remaining == 7 && spring.endsAt == 60_000)
        #expect(spring.secret.count == 32 && spring.createdAt == 5 && spring.captcha == .question)
        let summer = try store.create(sale("summer", stock: 1), nowMs: 6)
        #expect(summer.slot == 1 && summer.secret != spring.secret)
        #expect(throws: StoreError.duplicateSale("spring")) { try store.create(sale("spring", stock: 2), nowMs: 7) }
        let other = try PostgresSaleStore(url: url)
        #expect(try other.sale("spring") == spring)
        #expect(try other.sales().map(\.id) == ["spring", "summer"])
        #expect(try other.questions(ofSale: "spring") == questions)
        #expect(try other.sale("autumn") == nil)
        #expect(other.databaseID == store.databaseID && store.databaseID != 0)
    }

    @Test func aGroupPlacesInOrderRefusesDuplicatesAndStopsAtTheUnitsLeft() throws {
        let (store, _) = try freshStore()
        _ = try store.create(sale("spring", stock: 5), nowMs: 0)
        let earlier = try store.placeOrder(sale: "spring", user: "cat", nowMs: 1)
        let users = ["ann", "bob", "ann", "cat", "dan", "eve", "fay", "gus"]
        let entries =
            users.map { OrderEntry(sale: "spring", user: $0, nowMs: 2) } + [
                OrderEntry(sale: "ghost", user: "ann", nowMs: 2)
            ]
        let outcomes = try store.placeOrders(entries)
        #expect(
            outcomes.map(name) == [
                "placed", "placed", "alreadyOrdered", "alreadyOrdered", "placed", "placed", "soldOut", "soldOut",
                "unknownSale",
            ])
        #expect(try store.orders(ofSale: "spring").map(\.user) == ["cat", "ann", "bob", "dan", "eve"])
        #expect(try store.orders(ofSale: "spring").first == earlier)
        let after = try #require(try store.sale("spring"))
        #expect(after.remaining == 0 && after.version == 2)
        #expect(try store.placeOrders([]).isEmpty)
        #expect(try store.placeOrders([OrderEntry(sale: "spring", user: "hal", nowMs: 3)]).map(name) == ["soldOut"])
        #expect(try store.sale("spring") == after)
        #expect(try store.hasOrder(sale: "spring", user: "ann") && !store.hasOrder(sale: "spring", user: "fay"))
        #expect(try store.order(sale: "spring", user: "bob")?.status == Order.newStatus)
    }

    @Test func aGroupCommittedAgainFindsItsOrdersByTicketAndTakesNothingMore() throws {
        let (store, _) = try freshStore()
        _ = try store.create(sale("spring", stock: 2), nowMs: 0)
        let group = [
            OrderEntry(sale: "spring", user: "ann", nowMs: 1, ticket: 11),
            OrderEntry(sale: "spring", user: "bob", nowMs: 1, ticket: 12),
        ]
        let first = try store.placeOrders(group)
        let again = try store.placeOrders(group)
        #expect(first == again && first.map(name) == ["placed", "placed"])
        #expect(try store.sale("spring")?.remaining == 0)
        let stranger = try store.placeOrders([OrderEntry(sale: "spring", user: "ann", nowMs: 2, ticket: 99)])
        #expect(stranger.map(name) == ["soldOut"])
    }

    /// Eight connections placing groups at once, as the leaders of eight hosts would: exactly
    /// the stock is sold, one order per user, and the remaining never goes below zero.
    @Test func groupsFromManyConnectionsAtOnceSellExactlyTheStock() throws {
        let (store, url) = try freshStore()
        _ = try store.create(sale("crowd", stock: 50), nowMs: 0)
        let placed = Mutex(0)
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { host in
            do {
                let connection = try PostgresSaleStore(url: url)
                for group in 0..<10 {
                    let entries = (0..<5).map {
                        OrderEntry(sale: "crowd", user: "u\(host)-\(group)-\($0 % 4)", nowMs: 1)
                    }
                    let outcomes = try connection.placeOrders(entries)
                    placed.withLock { $0 += outcomes.filter { name($0) == "placed" }.count }
                }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        let orders = try store.orders(ofSale: "crowd")
        #expect(placed.withLock { $0 } == 50 && orders.count == 50)
        #expect(Set(orders.map(\.user)).count == 50)
        #expect(try store.sale("crowd")?.remaining == 0)
    }

    @Test func replacingASaleStartsItOverWithNoOrders() throws {
        let (store, _) = try freshStore()
        let old = try store.create(sale("demo", stock: 3), nowMs: 0)
        _ = try store.placeOrder(sale: "demo", user: "ann", nowMs: 1)
        var new = sale("demo", stock: 6)
        new.title = "Again"
        let replaced = try store.replace(new, nowMs: 2)
        #expect(replaced.slot == old.slot && replaced.secret != old.secret && replaced.remaining == 6)
        #expect(replaced.title == "Again" && replaced.version > old.version)
        #expect(try store.orders(ofSale: "demo").isEmpty)
        #expect(throws: StoreError.unknownSale("ghost")) { try store.replace(sale("ghost", stock: 1), nowMs: 3) }
    }

    @Test func invalidSalesAreRefusedAndNothingIsStored() throws {
        let (store, _) = try freshStore()
        for new in [sale("Bad Id", stock: 1), sale("empty", stock: 0)] {
            #expect {
                try store.create(new, nowMs: 0)
            } throws: {
                if case .invalid = $0 as? StoreError { true } else { false }
            }
        }
        #expect(try store.sales().isEmpty)
    }

    /// Several processes of several hosts opening a new database at once migrate it once.
    @Test func storesOpeningANewDatabaseAtOnceMigrateItOnce() throws {
        let url = try PostgresServer.shared().createDatabase("race_\(randomName())")
        let ids = Mutex<[UInt64]>([])
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            do {
                let store = try PostgresSaleStore(url: url)
                ids.withLock { $0.append(store.databaseID) }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        #expect(Set(ids.withLock { $0 }).count == 1)
        let connection = try PostgresConnection(url: url)
        #expect(try connection.query("SELECT count(*) FROM schema_version")[row: 0, column: 0] == "1")
        #expect(try connection.query("SELECT count(*) FROM meta")[row: 0, column: 0] == "1")
    }

    /// FULL commits with `synchronous_commit` on, NORMAL local, and so after the session was
    /// ended under the store and made again.
    @Test func durabilitySetsSynchronousCommitOnEverySession() throws {
        let (full, url) = try freshStore(.full)
        let (normal, _) = try freshStore(.normal)
        #expect(try full.connection.query("SHOW synchronous_commit")[row: 0, column: 0] == "on")
        #expect(try normal.connection.query("SHOW synchronous_commit")[row: 0, column: 0] == "local")
        let other = try PostgresConnection(url: url)
        for store in [full, normal] {
            let before = store.connection.backendPID
            // With a timeout, the call returns once the session has ended (its goodbye sent).
            try other.query("SELECT pg_terminate_backend($1, 5000)", [.int(Int64(before))])
            let setting = try store.connection.query("SHOW synchronous_commit")[row: 0, column: 0]
            #expect(store.connection.backendPID != before)
            #expect(setting == (store === full ? "on" : "local"))
        }
    }

    /// The server gone: a call fails as a fault of the moment and changes nothing; once the
    /// server is back, the same store works again on a new connection.
    @Test func aLostServerIsATransientFaultAndTheStoreComesBack() throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let url = try server.createDatabase("lost")
        let store = try PostgresSaleStore(url: url)
        _ = try store.create(sale("spring", stock: 3), nowMs: 0)
        _ = try store.placeOrder(sale: "spring", user: "ann", nowMs: 1)
        server.kill()
        #expect {
            _ = try store.placeOrders([OrderEntry(sale: "spring", user: "bob", nowMs: 2)])
        } throws: {
            ($0 as? StoreError)?.isTransient == true
        }
        #expect {
            _ = try store.sale("spring")
        } throws: {
            ($0 as? StoreError)?.isTransient == true
        }
        try server.start()
        #expect(eventually(within: 10) { (try? store.sale("spring"))??.remaining == 2 })
        #expect(try store.placeOrder(sale: "spring", user: "bob", nowMs: 3).user == "bob")
        #expect(try store.orders(ofSale: "spring").map(\.user) == ["ann", "bob"])
    }
}
