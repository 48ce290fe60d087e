import Foundation
import Glibc
import Identity

/// Runs a crowd with wrk: writes each connection's list of signed identities and the script,
/// starts `wrk`, reports progress from the lines its threads print, stops it once every thread
/// has written its records, and reads them.
public struct Crowd {
    /// Progress as the threads last reported it.
    public struct Progress: Sendable, Equatable {
        public var seconds: Double
        public var answers: Int
        public var orders: Int
        public var buyersDone: Int
        /// Answers other than `ok`, by error code, a precheck's reason or the status.
        public var refusals: [String: Int]
    }

    public let plan: CrowdPlan
    /// The wrk executable.
    public let wrk: String
    /// Where the lists, the script and the records go (created; left for inspection).
    public let folder: URL

    public init(plan: CrowdPlan, wrk: String, folder: URL) {
        self.plan = plan
        self.wrk = wrk
        self.folder = folder
    }

    /// Signs an identity for every user of the plan with `signer` (the main site's key), valid
    /// for the run and an hour more.
    public func writeLists(run: String, signer: TokenSigner) throws {
        let expires = Date().addingTimeInterval(Double(plan.seconds) + 3600)
        var lists = Array(repeating: "", count: plan.concurrency)
        for (index, buyer) in plan.users(run: run).enumerated() {
            let identity = try signer.sign(UserClaims(user: buyer.user, expires: expires))
            lists[index % plan.concurrency] += (buyer.isBot ? "bot " : "") + identity + "\n"
        }
        try FileManager.default.createDirectory(at: listsFolder, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: recordsFolder, withIntermediateDirectories: true)
        for (thread, list) in lists.enumerated() {
            try Data(list.utf8).write(to: listsFolder.appendingPathComponent(String(thread)))
        }
        try Data(CrowdScript.lua.utf8).write(to: scriptFile)
    }

    /// Runs wrk over the lists and returns every answer; `progress` is called about twice a second.
    public func run(progress: (Progress) -> Void) throws -> [CrowdRecord] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: wrk)
        // wrk sleeps for its whole duration; the threads stop on their own and wrk is
        // interrupted once their records are written, so the duration is only a bound.
        process.arguments = [
            "-t", String(plan.concurrency), "-c", String(plan.concurrency), "-d", "\(plan.seconds + 60)s",
            "--timeout", "10s", "-s", scriptFile.path, plan.base.absoluteString,
            listsFolder.path, plan.sale, String(plan.seconds), String(plan.botRounds), recordsFolder.path,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let started = Date()
        var reports: [Int: Progress] = [:]
        var transcript = ""
        var pending = Data()
        var lastShown = Date.distantPast
        var lastLooked = Date.distantPast
        let descriptor = output.fileHandleForReading.fileDescriptor
        while process.isRunning {
            var waiting = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            if poll(&waiting, 1, 250) > 0 {
                let chunk = output.fileHandleForReading.availableData
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[..<newline], as: UTF8.self)
                    pending.removeSubrange(...newline)
                    if let report = Self.progress(line) {
                        reports[report.thread] = report.progress
                    } else {
                        transcript += line + "\n"
                    }
                }
                if chunk.isEmpty { break }
            }
            let now = Date()
            if now.timeIntervalSince(lastShown) >= 0.5 {
                lastShown = now
                progress(
                    Progress(
                        seconds: now.timeIntervalSince(started), answers: reports.values.reduce(0) { $0 + $1.answers },
                        orders: reports.values.reduce(0) { $0 + $1.orders },
                        buyersDone: reports.values.reduce(0) { $0 + $1.buyersDone },
                        refusals: reports.values.reduce(into: [:]) { total, report in
                            total.merge(report.refusals, uniquingKeysWith: +)
                        }))
            }
            // Looked for at most every 100 ms: the threads' lines arrive hundreds of times a
            // second, and 64 file checks after each took a tenth of a core from the sale.
            guard now.timeIntervalSince(lastLooked) >= 0.1 else { continue }
            lastLooked = now
            if finishedThreads() == plan.concurrency {
                process.interrupt()
            } else if now.timeIntervalSince(started) > Double(plan.seconds + 50) {
                process.interrupt()
                process.waitUntilExit()
                throw LoadTestError.unfinished(threadsDone: finishedThreads(), of: plan.concurrency)
            }
        }
        process.waitUntilExit()
        guard finishedThreads() == plan.concurrency else {
            throw LoadTestError.wrkFailed(status: process.terminationStatus, output: transcript)
        }
        return try (0..<plan.concurrency).flatMap { thread in
            let text = try String(contentsOf: recordsFolder.appendingPathComponent(String(thread)), encoding: .utf8)
            return text.split(separator: "\n").compactMap(CrowdRecord.init(line:))
        }
    }

    private var listsFolder: URL { folder.appendingPathComponent("lists") }
    private var recordsFolder: URL { folder.appendingPathComponent("records") }
    private var scriptFile: URL { folder.appendingPathComponent("crowd.lua") }

    private func finishedThreads() -> Int {
        (0..<plan.concurrency).filter {
            FileManager.default.fileExists(atPath: recordsFolder.appendingPathComponent(String($0)).path)
        }.count
    }

    /// `P <thread> <answers> <orders> <buyers done> [<code>=<count> …]`; nil for any other line.
    static func progress(_ line: String) -> (thread: Int, progress: Progress)? {
        let fields = line.split(separator: " ")
        guard fields.count >= 5, fields[0] == "P" else { return nil }
        let numbers = fields[1...4].compactMap { Int($0) }
        guard numbers.count == 4 else { return nil }
        var refusals: [String: Int] = [:]
        // A pair that is not `code=count` is skipped: the counts of the line still stand.
        for pair in fields.dropFirst(5) {
            guard let equals = pair.lastIndex(of: "="), let count = Int(pair[pair.index(after: equals)...]) else {
                continue
            }
            refusals[String(pair[..<equals]), default: 0] += count
        }
        return (
            numbers[0],
            Progress(seconds: 0, answers: numbers[1], orders: numbers[2], buyersDone: numbers[3], refusals: refusals)
        )
    }
}

/// Why a load test could not run to its end.
public enum LoadTestError: Error, CustomStringConvertible, Equatable {
    case wrkFailed(status: Int32, output: String)
    case unfinished(threadsDone: Int, of: Int)

    public var description: String {
        switch self {
        case .wrkFailed(let status, let output):
            "wrk ended with status \(status) before every connection had finished:\n\(output)"
        case .unfinished(let done, let threads):
            "only \(done) of \(threads) connections finished in time"
        }
    }
}
