import Basics
import Foundation
import Hosting
import Sales
import Synchronization
import TestSupport
import Testing

/// A sale through real lighttpd and real function processes whose store is PostgreSQL (a
/// server the test starts), the stock segment as the gate: the same invariants as the
/// embedded backend's, the operator's commands on the same data, and the server lost mid-sale.
@Suite struct PostgresStoreServingTests {
    @Test func fortyUnitsToFourHundredBuyersSellExactlyFortyIntoPostgres() throws {
        let url = try PostgresServer.shared().createDatabase("serving")
        let shop = try LiveShop(store: url)
        try shop.createSale("race", stock: 40)
        let outcomes = Outcomes()

        #expect(crowd(400) { index in outcomes.record("user\(index)", try? shop.buy("user\(index)", sale: "race")) })

        let (sale, orders) = try shop.truth("race")
        #expect(orders.count == 40 && sale.remaining == 0, "\(outcomes.histogram)\n\(shop.logTail)")
        #expect(outcomes.created.count == 40)
        #expect(
            outcomes.all.values.filter { $0.status != 201 }.allSatisfy { $0.status == 409 && $0.code == "sold_out" },
            "\(outcomes.histogram)\n\(shop.logTail)")
        try expectConsistent(shop, "race", outcomes: outcomes)
        #expect(try shop.slot(sale).remaining == 0)
        // The rows are PostgreSQL's, and the directory has no SQLite database of its own.
        let counted = try PostgresServer.shared().psql(
            "SELECT count(*) FROM orders WHERE sale = 'race'", database: String(url.split(separator: "/").last!))
        #expect(counted.trimmingCharacters(in: .whitespacesAndNewlines) == "40")
        #expect(!FileManager.default.fileExists(atPath: shop.host.data.database))
        // The operator's commands read the same truth.
        let listed = try FlashsaleCommand.run("orders race --data \(shop.host.data.path)")
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(orders.allSatisfy { listed.stdout.contains($0.user) }, "\(listed.stdout)")
        let status = try FlashsaleCommand.run("status --data \(shop.host.data.path)")
        #expect(status.status == 0 && status.stdout.contains("race"), "\(status.stdout)\(status.stderr)")
    }

    /// PostgreSQL gone mid-sale: buyers are answered 503 `busy` with `Retry-After`, no 201
    /// without a committed row and no unit lost; once it is back, the sale sells out exactly.
    @Test func aLostPostgresIsAnsweredBusyAndTheSaleStillSellsExactly() throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let shop = try LiveShop(store: try server.createDatabase("lost"))
        try shop.createSale("lost", stock: 10)
        let outcomes = Outcomes()
        for index in 0..<4 { outcomes.record("early\(index)", try shop.buy("early\(index)", sale: "lost")) }
        #expect(outcomes.created.count == 4, "\(outcomes.histogram)\n\(shop.logTail)")

        server.kill()
        for index in 0..<4 {
            let answer = try shop.buy("late\(index)", sale: "lost")
            #expect(answer.status == 503 && answer.errorCode == "busy", "\(answer.status) \(answer.text)")
            #expect(answer.headers["retry-after"] != nil)
        }
        try server.start()

        let retried = Outcomes()
        #expect(
            crowd(40, threads: 8) { index in
                retried.record("late\(index)", try? shop.buyRetrying("late\(index)", sale: "lost"))
            })
        let (sale, orders) = try shop.truth("lost")
        #expect(sale.remaining == 0 && orders.count == 10, "\(retried.histogram)\n\(shop.logTail)")
        #expect(retried.created.count == 6)
        let rows = Set(orders.map(\.user))
        for user in outcomes.created.keys.sorted() + retried.created.keys.sorted() {
            #expect(rows.contains(user), "the 201 for \(user) has no row")
        }
        #expect(
            retried.all.values.filter { $0.status != 201 }.allSatisfy { $0.status == 409 },
            "\(retried.histogram)\n\(shop.logTail)")
    }
}
