import Backends
import Foundation
import Sales
import Store
import TestSupport
import Testing

/// `flashsale loadtest` against a real host: lighttpd, the functions and wrk.
@Suite struct LoadTestCommandTests {
    @Test func aCrowdWithBotsBuysTheStockOncePerBuyerAndTheDatabaseAgrees() throws {
        let serve = try ServeProcess()
        defer { _ = serve.stop() }
        let folder = try TemporaryDirectory("loadtest")
        defer { folder.remove() }
        let result = try FlashsaleCommand.run(
            "loadtest --data \(serve.data.path) --url http://127.0.0.1:\(serve.port) --create --sale crowd --stock 40"
                + " --buyers 300 --concurrency 8 --duration 60 --bots 0.1 --bot-rounds 5"
                + " --json \(folder.path)/summary.json --plot \(folder.path)/plot.svg")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("database: 40 orders by 40 distinct buyers of this run; 40 of 40 sold"))

        let summary = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: "\(folder.path)/summary.json")))
                as? [String: Any])
        #expect(summary["orders"] as? Int == 40)
        #expect(summary["buyers"] as? Int == 300 && summary["bots"] as? Int == 30)
        // A bot repeats its buy with one account: at most one order each.
        #expect((summary["botOrders"] as? Int ?? 99) <= 30)
        let steps = try #require(summary["steps"] as? [String: [String: Any]])
        #expect((steps["order"]?["outcomes"] as? [String: Int])?["ok"] == 40)
        // Everyone after the last unit hears sold_out, from token or from order.
        let tokenOutcomes = try #require(steps["token"]?["outcomes"] as? [String: Int])
        #expect((tokenOutcomes["sold_out"] ?? 0) > 0)
        #expect((tokenOutcomes["already_ordered"] ?? 0) > 0, "the bots' repeats: \(tokenOutcomes)")

        let plot = try String(contentsOfFile: "\(folder.path)/plot.svg", encoding: .utf8)
        #expect(plot.hasPrefix("<svg ") && plot.hasSuffix("</svg>\n"))
        #expect(plot.matches(of: #/<circle /#).count > 100)
        #expect(plot.contains("sale crowd, 300 buyers, 8 connections"))

        let desk = try EmbeddedDesk(
            databasePath: serve.data.database, segmentPath: serve.data.segment,
            nowMs: Int64(Date().timeIntervalSince1970 * 1000))
        let orders = try desk.store.orders(ofSale: "crowd")
        #expect(orders.count == 40 && Set(orders.map(\.user)).count == 40)
        #expect(orders.allSatisfy { $0.user.hasPrefix("loadtest-") })
    }

    /// What a wrk wrapper does to the database once the sale is made, before the crowd runs.
    enum Damage: String, CaseIterable, CustomTestStringConvertible {
        /// The database file moved away (the host keeps the file it has open).
        case missing
        /// The database file replaced with bytes that are not a database, its log moved away
        /// (SQLite would read page 1 from the log, not the file; the host keeps the files it has
        /// open): the check cannot read the sale it created.
        case unreadable
        /// A unit gone from the sale without an order: rows and stock − remaining disagree,
        /// while every 201 still has its row.
        case unitWithoutOrder

        var testDescription: String { rawValue }

        func command(database: String) -> String {
            switch self {
            case .missing:
                "mv '\(database)' '\(database).moved'"
            case .unreadable:
                "mv '\(database)' '\(database).moved'"
                    + " && for f in '\(database)-wal' '\(database)-shm'; do [ ! -e \"$f\" ] || mv \"$f\" \"$f.moved\"; done"
                    + " && printf 'not a database at all' > '\(database)'"
            case .unitWithoutOrder:
                "python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1], timeout=10); "
                    + "c.execute(\"UPDATE sales SET remaining = remaining - 1\"); c.commit()' '\(database)'"
            }
        }

        var says: String {
            switch self {
            case .missing, .unreadable: "database: not checked, though --create made sale crowd"
            case .unitWithoutOrder: "order rows, but stock 10 − remaining"
            }
        }
    }

    /// With --create the database check must happen and must hold: a database it cannot read,
    /// or order rows that are not the units gone, fail the run with a message that says so.
    @Test(arguments: Damage.allCases)
    func aCreatedSaleTheDatabaseCannotVouchForFailsTheRun(_ damage: Damage) throws {
        let serve = try ServeProcess()
        defer { _ = serve.stop() }
        let folder = try TemporaryDirectory("loadtest")
        defer { folder.remove() }
        let wrapper = "\(folder.path)/wrk"
        let script = """
            #!/bin/sh
            set -e
            if [ ! -e '\(folder.path)/damaged' ]; then
              touch '\(folder.path)/damaged'
              \(damage.command(database: serve.data.database))
            fi
            exec wrk "$@"

            """
        // Written through a close-on-exec descriptor: one that a process spawned meanwhile by a
        // parallel test inherited would keep the script "text file busy" for exec.
        let fd = open(wrapper, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        try #require(fd >= 0)
        let bytes = Array(script.utf8)
        #expect(write(fd, bytes, bytes.count) == bytes.count)
        close(fd)
        let result = try FlashsaleCommand.run(
            "loadtest --data \(serve.data.path) --url http://127.0.0.1:\(serve.port) --create --sale crowd --stock 10"
                + " --buyers 60 --concurrency 4 --duration 60 --wrk \(wrapper)")
        #expect(FileManager.default.fileExists(atPath: "\(folder.path)/damaged"), "the wrapper never ran")
        #expect(result.status != 0, "\(result.stdout)")
        #expect(result.stderr.contains(damage.says), "\(result.stderr)")
        #expect(!result.stdout.contains("database: not checked"))
    }

    @Test(arguments: [
        ("", "--create"),
        ("--sale x --bots 2", "share of bots"),
        ("--sale x --concurrency 0", "concurrency"),
        ("--sale Bad_Id", "sale id"),
        ("--sale x --url ftp://example.com", "http"),
        ("--sale x --url http://example.com/shop", "no path"),
        ("--sale x --buyers 5 --concurrency 10", "more connections"),
        ("--create --stock 0", "--stock"),
        ("--sale x --wrk /nonexistent/wrk", "wrk"),
    ])
    func badOptionsAreRefusedBeforeAnythingRuns(arguments: String, says: String) throws {
        let data = try TemporaryDirectory("loadtest-bad")
        defer { data.remove() }
        #expect(try FlashsaleCommand.run("init --data \(data.path)").status == 0)
        let result = try FlashsaleCommand.run("loadtest --data \(data.path) --url http://127.0.0.1:9 \(arguments)")
        #expect(result.status != 0)
        #expect(result.stderr.contains(says), "\(result.stderr)")
        let desk = try EmbeddedDesk(
            databasePath: data.path + "/flashsale.db", segmentPath: data.path + "/stock.segment",
            nowMs: Int64(Date().timeIntervalSince1970 * 1000))
        #expect(try desk.store.sales().isEmpty)
    }
}
