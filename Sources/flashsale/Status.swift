import ArgumentParser
import Basics
import Export
import Sales

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Every sale's state and stock, then its requests and rejections by reason (rate, account busy, captcha, level, …)."
    )

    @OptionGroup var data: DataOption
    @Flag(help: "Print JSON (every sale's report, counters included).") var json = false

    func run() throws {
        try runReporting {
            let reports = try openDesk(data).reports(nowMs: wallClockMilliseconds())
            if json {
                print(try encodeJSON(reports))
            } else if reports.isEmpty {
                print("no sales yet: create one with `flashsale sale create`")
            } else {
                print((ReportTable.lines(reports) + [""] + ReportTable.counters(reports)).joined(separator: "\n"))
            }
        }
    }
}
