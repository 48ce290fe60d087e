import ArgumentParser
import Foundation
import Hosting
import Sales

/// Opens the sales of the data directory, which must have been initialised.
func openDesk(_ data: DataOption) throws -> SaleDesk {
    let directory = data.directory
    try directory.checkUsable()
    return try SaleDesk(databasePath: directory.database, segmentPath: directory.segment, nowMs: nowMilliseconds())
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

func nowMilliseconds() -> Int64 {
    Int64((Date().timeIntervalSince1970 * 1000).rounded())
}

/// Parses an ISO 8601 time (`2026-12-01T10:00:00Z`, optionally with fractional seconds).
func parseTime(_ text: String?, option: String) throws -> Int64 {
    guard let text,
        let date = try? Date(text, strategy: .iso8601)
            ?? Date(text, strategy: .iso8601.time(includingFractionalSeconds: true))
    else {
        throw ValidationError("\(option) wants an ISO 8601 time such as 2026-12-01T10:00:00Z")
    }
    return Int64((date.timeIntervalSince1970 * 1000).rounded())
}

func encodeJSON(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

func printReport(_ report: SaleReport, json: Bool) throws {
    print(json ? try encodeJSON(report) : ReportTable.details(report).joined(separator: "\n"))
}
