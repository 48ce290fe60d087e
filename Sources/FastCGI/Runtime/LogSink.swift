import CProcessShims
import Glibc
import Synchronization

/// Where a process's log lines go: first the log (`log`, the process's stderr, which
/// `FLASHSALE_LOG` names for a function); a line the log cannot take (the disk is full, or
/// any write fails) goes to the host instead of vanishing: to `host`, the stderr the process
/// was started with (lighttpd hands its own to the processes it spawns, and that is
/// `flashsale serve`'s: a terminal or the journal), or to syslog when that fails too. Once
/// the log takes lines again, it first says how many went elsewhere.
///
/// Each line is one write(2) of the whole line, so the lines of processes appending to one
/// file never interleave, and a failure is seen at the line that meets it.
public final class LogSink: Sendable {
    /// The file descriptor of the log.
    let log: Int32
    /// What the log is, for the note that says lines went elsewhere.
    let logName: String
    /// A duplicate of the stderr the process was started with, or nil.
    let host: Int32?
    private let state = Mutex(State())

    private struct State {
        /// Lines the log did not take since it last took one.
        var missed = 0
        /// The log's last write stopped inside a line.
        var partial = false
    }

    /// A sink writing to `log` (named `logName` in its notes), then to `host` and syslog
    /// under `ident` (`flashsale-order`, say).
    public init(log: Int32, logName: String, host: Int32?, ident: String) {
        self.log = log
        self.logName = logName
        self.host = host
        flashsale_openlog(ident)
    }

    /// Writes `line` (without its newline) to the log or, when the log cannot take it, to the
    /// host; `priority` is its syslog priority. Never throws and never stops the process.
    public func write(_ line: String, priority: Int32 = LOG_ERR) {
        state.withLock { state in
            var text = state.partial ? "\n" : ""
            if state.missed > 0 {
                text += "\(Self.timestamp()) notice: \(state.missed) log lines went to the host's stderr or syslog "
                text += "while \(logName) could not be written\n"
            }
            text += line + "\n"
            let bytes = Array(text.utf8)
            let (written, error) = Self.writeAll(bytes, to: log)
            guard error != 0 else {
                state = State()
                return
            }
            state.partial = written > 0 && bytes[written - 1] != UInt8(ascii: "\n")
            if state.missed == 0 {
                toHost(
                    "\(Self.timestamp()) warning: cannot write \(logName): \(String(cString: strerror(error))); "
                        + "its lines come here until it can", priority: LOG_WARNING)
            }
            state.missed += 1
            toHost(line, priority: priority)
        }
    }

    private func toHost(_ line: String, priority: Int32) {
        if let host, Self.writeAll(Array((line + "\n").utf8), to: host).error == 0 { return }
        flashsale_syslog(priority, line)
    }

    /// Writes every byte of `bytes` to `fd`, retrying after EINTR and short writes; how many
    /// were written and the errno that stopped it (0 when all were written).
    static func writeAll(_ bytes: [UInt8], to fd: Int32) -> (written: Int, error: Int32) {
        bytes.withUnsafeBytes { buffer in
            var written = 0
            while written < buffer.count {
                let count = Glibc.write(fd, buffer.baseAddress! + written, buffer.count - written)
                if count > 0 {
                    written += count
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    return (written, count < 0 ? errno : EIO)
                }
            }
            return (written, 0)
        }
    }

    /// Now, as swift-log's stream handler writes it: `2026-12-02T12:38:59+0000`.
    static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
