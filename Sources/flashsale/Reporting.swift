import ArgumentParser
import Backends
import Basics
import Export
import Foundation
import Hosting
import Sales

/// Opens the sales of the data directory, which must have been initialised.
func openDesk(_ data: DataOption) throws -> HostDesk {
    let directory = data.directory
    try directory.checkUsable()
    return try HostDesk(data: directory, nowMs: wallClockMilliseconds())
}

/// Runs `body`, turning any error into one line on stderr and exit status 1.
func runReporting(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        throw fail(error)
    }
}

/// Parses an ISO 8601 time with a zone (`2026-12-01T10:00:00Z`, `…T10:00:00.250+02:00`).
/// A time that names no real instant (February 30, hour 25) is refused, not rolled over.
func parseTime(_ text: String, option: String) throws -> Int64 {
    let pattern = /(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(Z|([+-])(\d{2}):?(\d{2}))/
    guard let match = text.wholeMatch(of: pattern), let date = try? Date(text, strategy: .iso8601) else {
        throw ValidationError("\(option) wants an ISO 8601 time such as 2026-12-01T10:00:00Z, not \(text)")
    }
    let offset =
        match.output.7 == "Z"
        ? 0
        : (match.output.8 == "-" ? -1 : 1) * (Int(match.output.9 ?? "0")! * 3600 + Int(match.output.10 ?? "0")! * 60)
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(secondsFromGMT: offset) ?? .gmt
    let fields = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
    let written = [match.output.1, match.output.2, match.output.3, match.output.4, match.output.5, match.output.6].map {
        Int($0)!
    }
    guard
        [fields.year, fields.month, fields.day, fields.hour, fields.minute, fields.second] == written.map(Optional.init)
    else {
        throw ValidationError("\(option) \(text) is not a real time")
    }
    return Int64((date.timeIntervalSince1970 * 1000).rounded())
}

func encodeJSON(_ value: some Encodable) throws -> String {
    String(decoding: try prettyJSON(value), as: UTF8.self)
}

func printReport(_ report: SaleReport, json: Bool) throws {
    print(json ? try encodeJSON(report) : ReportTable.details(report).joined(separator: "\n"))
}
