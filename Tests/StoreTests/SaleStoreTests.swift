import Foundation
import Sales
import TestSupport
import Testing

@testable import Store

@Suite struct SaleStoreTests {
    let directory: TemporaryDirectory
    let store: SQLiteSaleStore
    var path: String { directory.path + "/flashsale.db" }

    init() throws {
        directory = try TemporaryDirectory("store")
        store = try SQLiteSaleStore(path: directory.path + "/flashsale.db")
    }

    func newSale(_ id: String = "spring", stock: Int64 = 3, startsAt: Int64 = 1_000, endsAt: Int64? = 9_000) -> NewSale
    {
        NewSale(id: id, title: "Spring sale", price: 1999, stock: stock, startsAt: startsAt, endsAt: endsAt)
    }

    @Test func aCreatedSaleHasItsValuesASecretAndTheNextSlot() throws {
        defer { directory.remove() }
        let first = try store.create(newSale(), nowMs: 500)
        #expect(first.remaining == 3 && first.stock == 3 && first.sold == 0 && first.version == 0)
        #expect(first.slot == 0)
        #expect(first.secret.range(of: "^[0-9a-f]{32}$", options: .regularExpression) != nil)
        let second = try store.create(newSale("autumn"), nowMs: 500)
        #expect(second.slot == 1)
        #expect(second.secret != first.secret)
        #expect(try store.sale("spring") == first)
        #expect(try store.sales().map(\.id) == ["autumn", "spring"])
        #expect(try store.sale("missing") == nil)
    }

    @Test(arguments: [
        (NewSale(id: "", title: "t", price: 1, stock: 1, startsAt: 0, endsAt: nil), "sale id"),
        (NewSale(id: "Bad_ID", title: "t", price: 1, stock: 1, startsAt: 0, endsAt: nil), "sale id"),
        (NewSale(id: "-x", title: "t", price: 1, stock: 1, startsAt: 0, endsAt: nil), "sale id"),
        (
            NewSale(id: String(repeating: "a", count: 65), title: "t", price: 1, stock: 1, startsAt: 0, endsAt: nil),
            "sale id"
        ),
        (NewSale(id: "x", title: "", price: 1, stock: 1, startsAt: 0, endsAt: nil), "title"),
        (NewSale(id: "x", title: "two\nlines", price: 1, stock: 1, startsAt: 0, endsAt: nil), "title"),
        (
            NewSale(
                id: "x", title: String(repeating: "e\u{301}", count: 150), price: 1, stock: 1, startsAt: 0, endsAt: nil),
            "title"
        ),
        (NewSale(id: "x", title: "t", price: -1, stock: 1, startsAt: 0, endsAt: nil), "price"),
        (NewSale(id: "x", title: "t", price: 1, stock: 0, startsAt: 0, endsAt: nil), "stock"),
        (NewSale(id: "x", title: "t", price: 1, stock: -5, startsAt: 0, endsAt: nil), "stock"),
        (NewSale(id: "x", title: "t", price: 1, stock: 10_000_001, startsAt: 0, endsAt: nil), "stock"),
        (NewSale(id: "x", title: "t", price: 1, stock: 1, startsAt: 10, endsAt: 10), "end"),
        (NewSale(id: "x", title: "t", price: 1, stock: 1, startsAt: 10, endsAt: 5), "end"),
    ])
    func badSalesAreRefusedAndChangeNothing(_ sale: NewSale, field: String) throws {
        defer { directory.remove() }
        #expect {
            try store.create(sale, nowMs: 0)
        } throws: { error in
            guard case .invalid(let message) = error as? StoreError else { return false }
            return message.contains(field)
        }
        #expect(try store.sales().isEmpty)
    }

    @Test func aDuplicateIdIsRefusedAndChangesNothing() throws {
        defer { directory.remove() }
        let original = try store.create(newSale(), nowMs: 0)
        #expect(throws: StoreError.duplicateSale("spring")) { try store.create(newSale(stock: 99), nowMs: 0) }
        #expect(try store.sales() == [original])
    }

    @Test func statesFollowTheClockAndTheStock() throws {
        defer { directory.remove() }
        var sale = try store.create(newSale(), nowMs: 0)
        #expect(sale.state(at: 999) == .scheduled)
        #expect(sale.state(at: 1_000) == .open)
        #expect(sale.state(at: 9_000) == .ended)
        sale.remaining = 0
        #expect(sale.state(at: 5_000) == .soldOut)
        #expect(sale.state(at: 9_000) == .ended)
    }

    @Test func ordersTakeStockOncePerUserAndNeverBelowZero() throws {
        defer { directory.remove() }
        _ = try store.create(newSale(stock: 2), nowMs: 0)
        let first = try store.placeOrder(sale: "spring", user: "ann", nowMs: 2_000)
        #expect(first.sale == "spring" && first.user == "ann" && first.status == "placed")
        #expect(throws: StoreError.alreadyOrdered) { try store.placeOrder(sale: "spring", user: "ann", nowMs: 2_001) }
        _ = try store.placeOrder(sale: "spring", user: "bob", nowMs: 2_002)
        #expect(throws: StoreError.soldOut) { try store.placeOrder(sale: "spring", user: "cid", nowMs: 2_003) }
        #expect(throws: StoreError.unknownSale("nope")) { try store.placeOrder(sale: "nope", user: "cid", nowMs: 0) }
        let sale = try #require(try store.sale("spring"))
        #expect(sale.remaining == 0 && sale.sold == 2 && sale.version == 2)
        #expect(try store.orders(ofSale: "spring").map(\.user) == ["ann", "bob"])
        #expect(try store.hasOrder(sale: "spring", user: "ann"))
        #expect(try !store.hasOrder(sale: "spring", user: "cid"))
    }

    @Test func connectionsRacingForTheStockSellExactlyIt() throws {
        defer { directory.remove() }
        _ = try store.create(newSale(stock: 50), nowMs: 0)
        let path = path
        let results = ResultBox()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            guard let connection = try? SQLiteSaleStore(path: path) else { return results.add(.failure) }
            for buyer in 0..<40 {
                do {
                    _ = try connection.placeOrder(sale: "spring", user: "u\(buyer % 30)-\(worker % 4)", nowMs: 1)
                    results.add(.sold)
                } catch StoreError.soldOut {
                    results.add(.soldOut)
                } catch StoreError.alreadyOrdered {
                    results.add(.already)
                } catch {
                    results.add(.failure)
                }
            }
        }
        let orders = try store.orders(ofSale: "spring")
        #expect(results.count(.sold) == 50)
        #expect(results.count(.failure) == 0)
        #expect(orders.count == 50)
        #expect(Set(orders.map(\.user)).count == 50)
        #expect(try store.sale("spring")?.remaining == 0)
    }

    @Test func aDatabaseFromANewerFlashsaleIsRefused() throws {
        defer { directory.remove() }
        try store.database.execute("PRAGMA user_version = 99")
        #expect {
            try SQLiteSaleStore(path: path)
        } throws: { error in
            "\(error)".contains("schema version 99, newer than this flashsale knows")
        }
    }

    @Test func reopeningKeepsTheSchemaTheDatabaseIDAndFullSync() throws {
        defer { directory.remove() }
        let again = try SQLiteSaleStore(path: path)
        #expect(again.databaseID == store.databaseID)
        #expect(store.databaseID != 0)
        #expect(try again.database.text("PRAGMA user_version") == String(Schema.migrations.count))
        #expect(try again.database.text("PRAGMA journal_mode") == "wal")
        #expect(again.synchronous == .full)
        // FULL is kept by syncing the log after each commit, outside the write lock: SQLite
        // itself runs at NORMAL, which syncs before checkpoints and before the log is reused.
        #expect(try again.database.text("PRAGMA synchronous") == "1")
        let relaxed = try SQLiteSaleStore(path: path, synchronous: .normal)
        #expect(relaxed.synchronous == .normal)
        // That the log is synced before each order is answered, and only at FULL, is what the
        // kernel sees: OrderDurabilityTests traces a real order process.
    }

}

/// Outcomes gathered from concurrent workers.
final class ResultBox: @unchecked Sendable {  // every access holds `lock`
    enum Outcome { case sold, soldOut, already, failure }
    private let lock = NSLock()
    private var outcomes: [Outcome] = []

    func add(_ outcome: Outcome) {
        lock.withLock { outcomes.append(outcome) }
    }

    func count(_ outcome: Outcome) -> Int {
        lock.withLock { outcomes.filter { $0 == outcome }.count }
    }
}
