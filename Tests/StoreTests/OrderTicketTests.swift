import Sales
import TestSupport
import Testing

@testable import Store

/// An order's ticket: a group committed again (its leader died after COMMIT) finds by each
/// entry's ticket the order that entry placed, and takes no unit for it a second time; any other
/// entry of the same user is refused as before.
@Suite struct OrderTicketTests {
    let directory: TemporaryDirectory
    let store: SQLiteSaleStore

    init() throws {
        directory = try TemporaryDirectory("ticket")
        store = try SQLiteSaleStore(path: directory.path + "/flashsale.db")
    }

    func createSale(stock: Int64) throws -> Sale {
        try store.create(
            NewSale(id: "spring", title: "Spring sale", price: 1_999, stock: stock, startsAt: 1_000, endsAt: 9_000),
            nowMs: 500)
    }

    func entry(_ user: String, ticket: Int64?, sale: String = "spring") -> OrderEntry {
        OrderEntry(sale: sale, user: user, nowMs: 2_000, ticket: ticket)
    }

    @Test func anEntryCommittedAgainIsPlacedWithItsOrderAndTakesNothing() throws {
        defer { directory.remove() }
        _ = try createSale(stock: 3)
        let first = try store.placeOrders([entry("ann", ticket: 7)])
        let order = try #require(Self.orders(first).first)
        let after = try #require(try store.sale("spring"))
        #expect(after.remaining == 2)
        #expect(try store.placeOrders([entry("ann", ticket: 7)]) == [.placed(order)])
        #expect(try store.sale("spring") == after)
        #expect(try store.orders(ofSale: "spring") == [order])
    }

    @Test func anEntryCommittedAgainAfterItTookTheLastUnitIsPlacedNotSoldOut() throws {
        defer { directory.remove() }
        _ = try createSale(stock: 1)
        let order = try #require(Self.orders(try store.placeOrders([entry("ann", ticket: 7)])).first)
        let after = try #require(try store.sale("spring"))
        #expect(after.remaining == 0)
        #expect(try store.placeOrders([entry("ann", ticket: 7)]) == [.placed(order)])
        #expect(try store.placeOrders([entry("bob", ticket: 8)]) == [.soldOut])
        #expect(try store.sale("spring") == after)
        #expect(try store.orders(ofSale: "spring") == [order])
    }

    @Test func aWholeGroupCommittedAgainPlacesTheSameOrdersAndTakesNothing() throws {
        defer { directory.remove() }
        _ = try createSale(stock: 3)
        let group = [
            entry("ann", ticket: 1), entry("ann", ticket: 2), entry("bob", ticket: 3), entry("cat", ticket: 4),
            entry("dan", ticket: 5),
        ]
        let first = try store.placeOrders(group)
        #expect(Self.orders(first).map(\.user) == ["ann", "bob", "cat"])
        #expect(first[1] == .alreadyOrdered && first[4] == .soldOut)
        let after = try #require(try store.sale("spring"))
        #expect(after.remaining == 0)
        // The sale has no unit left now, so a refused entry may come back sold out this time;
        // what matters is that each placed entry finds its order and no other entry is placed.
        let again = try store.placeOrders(group)
        #expect(again.map(Self.order) == first.map(Self.order))
        #expect(try store.sale("spring") == after)
        #expect(try store.orders(ofSale: "spring") == Self.orders(first))
    }

    @Test func anEntryCommittedAgainBesideNewOnesTakesOnlyTheirUnits() throws {
        defer { directory.remove() }
        _ = try createSale(stock: 3)
        let ann = try #require(Self.orders(try store.placeOrders([entry("ann", ticket: 1)])).first)
        let outcomes = try store.placeOrders([entry("bob", ticket: 2), entry("ann", ticket: 1)])
        let bob = try #require(Self.orders(outcomes).first)
        #expect(outcomes == [.placed(bob), .placed(ann)])
        #expect(bob.user == "bob" && bob.id != ann.id)
        #expect(try store.sale("spring")?.remaining == 1)
        #expect(try store.orders(ofSale: "spring") == [ann, bob])
    }

    @Test(arguments: [
        (Int64?(1), Int64?(2)), (Int64?(1), Int64?.none), (Int64?.none, Int64?(1)), (Int64?.none, Int64?.none),
    ])
    func anotherEntryOfTheSameUserIsAlreadyOrdered(first: Int64?, second: Int64?) throws {
        defer { directory.remove() }
        _ = try createSale(stock: 3)
        let order = try #require(Self.orders(try store.placeOrders([entry("ann", ticket: first)])).first)
        let after = try #require(try store.sale("spring"))
        #expect(try store.placeOrders([entry("ann", ticket: second)]) == [.alreadyOrdered])
        #expect(try store.sale("spring") == after)
        #expect(try store.orders(ofSale: "spring") == [order])
    }

    @Test func aTicketFindsOnlyItsOwnSalesOrder() throws {
        defer { directory.remove() }
        _ = try createSale(stock: 3)
        _ = try store.create(
            NewSale(id: "autumn", title: "Autumn sale", price: 999, stock: 3, startsAt: 1_000, endsAt: 9_000),
            nowMs: 500)
        let spring = try #require(Self.orders(try store.placeOrders([entry("ann", ticket: 7)])).first)
        let autumn = try #require(Self.orders(try store.placeOrders([entry("ann", ticket: 7, sale: "autumn")])).first)
        #expect(autumn.sale == "autumn" && autumn.id != spring.id)
        #expect(try store.sale("autumn")?.remaining == 2)
    }

    @Test func orderAnswersTheUsersOrderOrNil() throws {
        defer { directory.remove() }
        _ = try createSale(stock: 3)
        #expect(try store.order(sale: "spring", user: "ann") == nil)
        let ann = try #require(Self.orders(try store.placeOrders([entry("ann", ticket: 7)])).first)
        let bob = try store.placeOrder(sale: "spring", user: "bob", nowMs: 2_100)
        #expect(try store.order(sale: "spring", user: "ann") == ann)
        #expect(try store.order(sale: "spring", user: "bob") == bob)
        #expect(try store.order(sale: "spring", user: "cat") == nil)
        #expect(try store.order(sale: "ghost", user: "ann") == nil)
    }

    @Test func aDatabaseOfSchemaFiveIsMigratedKeepingItsOrdersWithoutTickets() throws {
        defer { directory.remove() }
        let path = directory.path + "/schema5.db"
        do {
            let old = try Database(path: path)
            for migration in Schema.migrations.prefix(5) { try old.execute(migration) }
            try old.execute(
                """
                PRAGMA user_version = 5;
                INSERT INTO sales (id, slot, title, price, stock, remaining, starts_at, ends_at, secret, created_at)
                VALUES ('spring', 0, 'Spring sale', 1999, 3, 2, 1000, 9000, 'secret', 500);
                INSERT INTO orders (sale, user, created_at) VALUES ('spring', 'ann', 2000);
                """)
        }
        let migrated = try SQLiteSaleStore(path: path)
        #expect(try migrated.database.text("PRAGMA user_version") == String(Schema.migrations.count))
        let ann = try #require(try migrated.order(sale: "spring", user: "ann"))
        #expect(ann.user == "ann" && ann.createdAt == 2_000 && ann.status == "placed")
        #expect(try migrated.database.text("SELECT count(*) FROM orders WHERE ticket IS NULL") == "1")
        #expect(try migrated.placeOrders([entry("ann", ticket: 1)]) == [.alreadyOrdered])
        let bob = try #require(Self.orders(try migrated.placeOrders([entry("bob", ticket: 2)])).first)
        #expect(try migrated.placeOrders([entry("bob", ticket: 2)]) == [.placed(bob)])
        #expect(try migrated.sale("spring")?.remaining == 1)
        #expect(try migrated.orders(ofSale: "spring") == [ann, bob])
    }

    /// The order an outcome placed, or nil.
    static func order(_ outcome: OrderOutcome) -> Order? {
        if case .placed(let order) = outcome { return order }
        return nil
    }

    /// The orders placed, in the group's order.
    static func orders(_ outcomes: [OrderOutcome]) -> [Order] {
        outcomes.compactMap(order)
    }
}
