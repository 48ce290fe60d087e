import ArgumentParser
import Backends
import Basics
import Export
import Foundation
import Hosting
import Sales
import Store

struct SaleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sale",
        abstract: "Create, list and show sales.",
        subcommands: [Create.self, List.self, Show.self]
    )

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Create a sale and publish its page. Times are relative to now (--starts-in, --ends-in) or ISO 8601 (--start, --end)."
        )

        @OptionGroup var data: DataOption
        @OptionGroup var root: RootOption
        @Argument(help: "The sale id: lowercase letters, digits and dashes, used in URLs.") var id: String
        @Option(help: "The title buyers see.") var title: String
        @Option(help: "The price in minor units (cents).") var price: Int64
        @Option(help: "The units for sale.") var stock: Int64
        @Option(help: "Seconds from now until the sale opens.") var startsIn: Int64?
        @Option(help: "When the sale opens, ISO 8601 (2026-12-01T10:00:00Z).") var start: String?
        @Option(help: "Seconds from now until the sale ends.") var endsIn: Int64?
        @Option(help: "When the sale ends, ISO 8601.") var end: String?
        @Option(help: "Token and order requests per second one client address may make (0: no limit).")
        var perIpRate: Int64 = 0
        @Option(help: "The account level (the identity's level claim) a buyer needs (0: anyone).")
        var minLevel: Int64 = 0
        @Option(help: "The challenge before a token: off, image (a code to read) or question.")
        var captcha = CaptchaMode.off
        @Option(help: "A question of yours, asked among generated ones (repeat, 50 or more; each with its --answer).")
        var question: [String] = []
        @Option(help: "The answer to the --question at the same place (case and spacing do not count).")
        var answer: [String] = []
        @Option(help: "Leading zero bits of a proof of work the page solves before each token (0: none; 16 is ~0.1 s).")
        var pow: Int64 = 0
        @Flag(help: "Print the sale as JSON.") var json = false

        /// Ten years, in seconds: the furthest --starts-in or --ends-in may reach.
        static let maxOffsetSeconds: Int64 = 10 * 366 * 24 * 3600

        func validate() throws {
            guard (startsIn == nil) != (start == nil) else {
                throw ValidationError("give exactly one of --starts-in and --start")
            }
            guard endsIn == nil || end == nil else { throw ValidationError("give at most one of --ends-in and --end") }
            guard question.count == answer.count else {
                throw ValidationError("give one --answer for each --question, in the same order")
            }
            for (name, seconds) in [("--starts-in", startsIn), ("--ends-in", endsIn)] {
                if let seconds, abs(seconds) > Self.maxOffsetSeconds {
                    throw ValidationError("\(name) must be within ten years (\(Self.maxOffsetSeconds) seconds)")
                }
            }
            _ = try start.map { try parseTime($0, option: "--start") }
            _ = try end.map { try parseTime($0, option: "--end") }
        }

        func run() throws {
            try runReporting {
                let now = wallClockMilliseconds()
                let storefront = try root.storefront()
                let desk = try openDesk(data)
                let new = NewSale(
                    id: id, title: title, price: price, stock: stock,
                    startsAt: try startsIn.map { now + $0 * 1000 } ?? parseTime(start ?? "", option: "--start"),
                    endsAt: try endsIn.map { now + $0 * 1000 } ?? end.map { try parseTime($0, option: "--end") },
                    perIPRate: perIpRate, minLevel: minLevel, captcha: captcha,
                    questions: zip(question, answer).map { SaleQuestion(question: $0, answer: $1) }, powBits: pow)
                let sale = try desk.create(new, nowMs: now)
                try data.directory.publishSite(storefront, sales: try desk.store.sales())
                try printReport(try desk.report(sale.id, nowMs: now), json: json)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every sale with its state and stock.")

        @OptionGroup var data: DataOption
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            try runReporting {
                let reports = try openDesk(data).reports(nowMs: wallClockMilliseconds())
                if json {
                    print(try encodeJSON(reports))
                } else {
                    print(ReportTable.lines(reports).joined(separator: "\n"))
                }
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a sale: state (scheduled|open|sold_out|ended), stock, remaining, sold and counters.")

        @OptionGroup var sale: SaleTarget
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            try runReporting {
                try printReport(try sale.desk().report(sale.id, nowMs: wallClockMilliseconds()), json: json)
            }
        }
    }
}

struct Orders: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the orders of a sale.")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case csv, json
    }

    @OptionGroup var sale: SaleTarget
    @Option(help: "csv (with a header row) or json.") var format = Format.csv

    func run() throws {
        try runReporting {
            let orders = try sale.desk().store.orders(ofSale: sale.id)
            switch format {
            case .csv: print(try OrderExport.csv(orders), terminator: "")
            case .json: print(String(decoding: try OrderExport.json(orders), as: UTF8.self))
            }
        }
    }
}

struct Reconcile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Set a sale's stock in the segment from the database, returning units held by processes that died.")

    @OptionGroup var sale: SaleTarget
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReporting {
            let result = try sale.desk().reconcile(sale.id, nowMs: wallClockMilliseconds())
            if json {
                print(try encodeJSON(result))
            } else {
                let before = result.segmentBefore.map(String.init) ?? "unconfigured"
                print("\(result.sale): segment remaining \(before) → \(result.remaining) (from the database)")
            }
        }
    }
}

/// The data directory and the id of the sale a command works on.
struct SaleTarget: ParsableArguments {
    @OptionGroup var data: DataOption
    @Argument(help: "The sale id.") var id: String

    func desk() throws -> HostDesk {
        try openDesk(data)
    }
}

extension CaptchaMode: ExpressibleByArgument {}
