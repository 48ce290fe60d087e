import Foundation
import Logging
import TestSupport
import Testing

@testable import FastCGI

/// A log line that the log cannot take reaches the host's stderr, and the log, once it takes
/// lines again, says how many went there. `/dev/full` answers every write ENOSPC, as a full
/// disk does; dup2 puts it under the log's descriptor and takes it away again.
@Suite struct LogSinkTests {
    let directory: TemporaryDirectory
    let logPath: String
    /// The log's descriptor: the log file, or /dev/full while the disk is "full".
    let log: Int32
    /// The host's stderr: a pipe the test reads.
    let hostRead: Int32
    let hostWrite: Int32

    init() throws {
        directory = try TemporaryDirectory("log-sink")
        logPath = directory.path + "/functions.log"
        log = open(logPath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        var ends: [Int32] = [0, 0]
        guard log >= 0, pipe(&ends) == 0, fcntl(ends[0], F_SETFL, O_NONBLOCK) == 0 else { throw POSIXError(.EIO) }
        (hostRead, hostWrite) = (ends[0], ends[1])
    }

    func close() {
        for fd in [log, hostRead, hostWrite] { _ = Glibc.close(fd) }
        directory.remove()
    }

    func fill() {
        let full = open("/dev/full", O_WRONLY | O_CLOEXEC)
        dup2(full, log)
        _ = Glibc.close(full)
    }

    func free() {
        let file = open(logPath, O_WRONLY | O_APPEND | O_CLOEXEC)
        dup2(file, log)
        _ = Glibc.close(file)
    }

    var host: String {
        var bytes = [UInt8](repeating: 0, count: 65_536)
        let count = read(hostRead, &bytes, bytes.count)
        return String(decoding: bytes.prefix(max(count, 0)), as: UTF8.self)
    }

    var logged: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    @Test func linesTheLogCannotTakeGoToTheHostAndTheLogSaysSoWhenItRecovers() {
        defer { close() }
        let sink = LogSink(log: log, logName: logPath, host: hostWrite, ident: "flashsale-test")
        sink.write("first")
        fill()
        sink.write("second")
        sink.write("third")
        let hosted = host
        #expect(hosted.contains("cannot write \(logPath): No space left on device"))
        #expect(hosted.hasSuffix("\nsecond\nthird\n"), "\(hosted)")
        free()
        sink.write("fourth")
        let lines = logged.split(separator: "\n")
        #expect(lines.count == 3, "\(logged)")
        #expect(lines.first == "first" && lines.last == "fourth")
        #expect(
            lines.dropFirst().first?.hasSuffix(
                "2 log lines went to the host's stderr or syslog while \(logPath) could not be written") == true)
        #expect(host.isEmpty)
    }

    @Test func theHandlerWritesOneLineLikeTheStreamHandler() throws {
        defer { close() }
        let sink = LogSink(log: log, logName: logPath, host: hostWrite, ident: "flashsale-test")
        var logger = Logger(label: "flashsale.test") { FallbackLogHandler(label: $0, sink: sink) }
        logger[metadataKey: "sale"] = "spring"
        logger.error("the order failed", metadata: ["user": "alice"])
        logger.debug("not at the default level")
        let pattern =
            #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000 error flashsale\.test: sale=spring user=alice the order failed\n$"#
        #expect(logged.range(of: pattern, options: .regularExpression) != nil, "\(logged)")
        #expect(FallbackLogHandler.priority(.critical) == LOG_CRIT)
    }
}
