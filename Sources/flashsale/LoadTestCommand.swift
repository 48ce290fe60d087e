import ArgumentParser
import Backends
import Basics
import Foundation
import Identity
import LoadTest
import Sales
import Store

struct LoadTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadtest",
        abstract: "Rehearse a sale: a crowd of buyers (and bots) against a running host, through wrk.",
        discussion: """
            Each buyer asks for a token, prechecks and orders, once; a bot repeats that with its one \
            account without waiting. Identities are signed with the data directory's identity.key, so \
            the host must share it. With --create the sale is made in the data directory (the host's \
            own, when it runs here); orders are then checked against the database (rows, stock − remaining \
            and the acknowledged orders agree), and a database that cannot be checked fails the run.
            """
    )

    @OptionGroup var data: DataOption
    @Option(help: "The host's base URL.") var url = "http://127.0.0.1:8080"
    @Option(help: "The sale to buy from (with --create: the id to give it; default loadtest-<run>).")
    var sale: String?
    @Flag(help: "Create the sale first, open now, in the data directory.") var create = false
    @Option(help: "With --create: the units for sale.") var stock: Int64 = 1000
    @Option(help: "Buyers, each with an account of their own.") var buyers = 10_000
    @Option(help: "Connections (and wrk threads) at once.") var concurrency = 64
    @Option(help: "The longest the crowd runs, in seconds.") var duration = 60
    @Option(help: "The share of the buyers that are bots (0 to 1).") var bots = 0.0
    @Option(help: "How many times in a row each bot buys.") var botRounds = 20
    @Option(help: "Write the summary as JSON to this file.") var json: String?
    @Option(help: "Write the latencies over time as an SVG plot to this file.") var plot: String?
    @Option(help: "The wrk executable (default: wrk on PATH).") var wrk = "wrk"

    func validate() throws {
        if !create && sale == nil { throw ValidationError("name the sale (--sale ID) or --create one") }
        if create && stock < 1 { throw ValidationError("--stock must be at least 1") }
        if let problem = plan(sale: sale ?? "loadtest").problem { throw ValidationError(problem) }
    }

    func run() throws {
        try runReporting {
            let wrkPath = try executable(wrk)
            // The second, and a random part: two runs started in the same second (two test cases)
            // must not share their folder, their buyers' names or their default sale id.
            let second = String(wallClockMilliseconds() / 1000, radix: 36)
            let run = second + String(Int.random(in: 1296..<46656), radix: 36)  // three base-36 digits
            let saleID = sale ?? "loadtest-\(run)"
            if create {
                let desk = try openDesk(data)
                _ = try desk.create(
                    NewSale(
                        id: saleID, title: "Load test \(run)", price: 1, stock: stock,
                        startsAt: wallClockMilliseconds(),
                        endsAt: nil), nowMs: wallClockMilliseconds())
            }
            let plan = plan(sale: saleID)
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("flashsale-loadtest-\(run)")
            let crowd = Crowd(plan: plan, wrk: wrkPath, folder: folder)
            let directory = data.directory
            try crowd.writeLists(run: run, signer: TokenSigner(secret: try directory.keyBytes(directory.identityKey)))
            FileHandle.standardError.write(
                Data(
                    "loadtest \(run): \(plan.buyers) buyers on \(plan.concurrency) connections → \(url) sale \(saleID)\n"
                        .utf8))
            // One line rewritten in place on a terminal; a line every 5 s in a log.
            let live = isatty(STDERR_FILENO) == 1
            var shown = (seconds: -5.0, answers: 0)
            let records = try crowd.run { progress in
                guard live || progress.seconds - shown.seconds >= 5 else { return }
                let rate = Double(progress.answers - shown.answers) / max(0.001, progress.seconds - shown.seconds)
                shown = (progress.seconds, progress.answers)
                let refusals = progress.refusals.sorted { $0.value > $1.value }.prefix(4)
                    .map { "\($0.key) \($0.value)" }.joined(separator: "  ")
                let line = String(
                    format: "%@%6.1f s  %7.0f/s  %9d answers  %8d orders  %9d of %d buyers done  %@%@",
                    live ? "\r" : "",
                    progress.seconds, rate, progress.answers, progress.orders, progress.buyersDone, plan.buyers,
                    refusals, live ? "\u{1B}[K" : "\n")
                FileHandle.standardError.write(Data(line.utf8))
            }
            if live { FileHandle.standardError.write(Data("\n".utf8)) }
            let users = plan.users(run: run)
            let summary = CrowdSummary(records: records, buyers: users.count, bots: users.filter(\.isBot).count)
            print(LoadTestReport.lines(summary, plan: plan).joined(separator: "\n"))
            if let json { try prettyJSON(summary).write(to: URL(fileURLWithPath: json)) }
            if let plot {
                let title =
                    "flashsale loadtest \(run): sale \(saleID), \(plan.buyers) buyers, \(plan.concurrency) connections"
                try Data(LatencyPlot.svg(records, title: title).utf8).write(to: URL(fileURLWithPath: plot))
            }
            try checkDatabase(sale: saleID, run: run, summary: summary, records: records)
            try? FileManager.default.removeItem(at: folder)
        }
    }

    private func plan(sale: String) -> CrowdPlan {
        CrowdPlan(
            base: URL(string: url) ?? URL(fileURLWithPath: "/"), sale: sale, buyers: buyers, concurrency: concurrency,
            seconds: duration, botShare: bots, botRounds: botRounds)
    }

    /// When the sale is in this data directory's store: its order rows must be the units gone
    /// (stock − remaining, never more than the stock); every order acknowledged (201) must be
    /// there, each buyer's at most once. An order sent again after a lost connection, or answered
    /// 5xx, may be there unacknowledged: those are allowed beyond the 201s, and said. With
    /// --create the sale was made here, so a database that cannot be read fails the run.
    private func checkDatabase(sale: String, run: String, summary: CrowdSummary, records: [CrowdRecord]) throws {
        let directory = data.directory
        let desk: HostDesk
        let known: Sale
        do {
            desk = try openDesk(data)
            guard let found = try desk.store.sale(sale) else { throw ValidationError("sale \(sale) is not in it") }
            known = found
        } catch {
            guard create else {
                print("database: not checked (the sale is not in \(directory.path))")
                return
            }
            throw ValidationError(
                "database: not checked, though --create made sale \(sale) in \(directory.path): \(error)")
        }
        let rows = try desk.store.orders(ofSale: sale)
        let mine = rows.filter { $0.user.hasPrefix("loadtest-\(run)-") }
        let distinct = Set(mine.map(\.user)).count
        let unsure = records.filter { $0.step == .order && ($0.code == "already_ordered" || $0.status >= 500) }.count
        var line =
            "database: \(mine.count) orders by \(distinct) distinct buyers of this run; \(known.sold) of \(known.stock) sold"
        if mine.count > summary.orders {
            line += " (\(mine.count - summary.orders) written but answered otherwise than 201)"
        }
        print(line)
        var problems: [String] = []
        if rows.count != Int(known.sold) || known.remaining < 0 || known.sold > known.stock {
            problems.append(
                "\(rows.count) order rows, but stock \(known.stock) − remaining \(known.remaining) is \(known.sold)")
        }
        if create && rows.count != mine.count {
            problems.append("\(rows.count - mine.count) orders by buyers of no run, in a sale this run created")
        }
        if mine.count < summary.orders {
            problems.append("\(summary.orders) orders were acknowledged (201), \(mine.count) are in the database")
        }
        if mine.count > summary.orders + unsure {
            problems.append(
                "\(mine.count) orders of this run, more than the \(summary.orders) acknowledged and \(unsure) unsure")
        }
        if distinct != mine.count {
            problems.append("\(mine.count - distinct) buyers have more than one order")
        }
        guard problems.isEmpty else {
            throw ValidationError("the database does not match the answers: \(problems.joined(separator: "; "))")
        }
    }
}

/// `name` itself when it holds a slash, else the first executable of that name on PATH.
private func executable(_ name: String) throws -> String {
    if name.contains("/") {
        guard FileManager.default.isExecutableFile(atPath: name) else {
            throw ValidationError("\(name) is not an executable: install wrk (Debian package wrk) or fix --wrk")
        }
        return name
    }
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for folder in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(folder)/\(name)") {
        return "\(folder)/\(name)"
    }
    throw ValidationError("\(name) is not on PATH: install wrk (Debian package wrk) or give --wrk")
}
