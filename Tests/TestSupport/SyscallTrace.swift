import Basics
import Foundation
import Hosting

/// strace attached to a running process and its threads, recording the calls named in
/// `calls` with each descriptor's path (`-y`), for tests that must see what reaches the kernel
/// and in which order (a log sync before an answer). `stop()` detaches and parses the record.
public final class SyscallTrace {
    /// One traced call: who made it, on which descriptor's path (`socket:[…]` for a socket),
    /// the rest of its arguments as strace printed them, and its result.
    public struct Call: Sendable, CustomStringConvertible {
        public var pid: pid_t
        public var name: String
        public var path: String
        public var arguments: String
        public var result: Int

        public var description: String { "\(pid) \(name)(\(path), \(arguments)) = \(result)" }
    }

    public static let strace = "/usr/bin/strace"

    private let tracer: ChildProcess
    private let output: String
    private let traced: pid_t

    /// Attaches to `pid` and returns once every thread of it is traced.
    public init(pid: pid_t, calls: [String], output: String) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.strace) else {
            throw ServeError(message: "\(Self.strace) is missing: install strace (make test does)")
        }
        self.output = output
        traced = pid
        tracer = try ChildProcess(
            executable: Self.strace,
            arguments: [
                "-f", "-qq", "-y", "-s", "256", "-e", "trace=\(calls.joined(separator: ","))", "-o", output, "-p",
                "\(pid)",
            ])
        guard eventually(within: 10, { Self.isTraced(pid) }) else {
            tracer.signal(SIGKILL)
            tracer.reap()
            throw ServeError(message: "strace did not attach to \(pid) within 10 s")
        }
    }

    deinit {
        tracer.signal(SIGKILL)
        tracer.reap()
    }

    /// Whether every thread of `pid` has a tracer.
    static func isTraced(_ pid: pid_t) -> Bool {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return !tasks.isEmpty
            && tasks.allSatisfy { task in
                let status = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8)) ?? ""
                let tracer = status.split(separator: "\n").first { $0.hasPrefix("TracerPid:") }
                return tracer.map { !$0.hasSuffix("\t0") } ?? false
            }
    }

    /// Detaches (SIGINT, as at a terminal) and returns the calls recorded, in order.
    public func stop() throws -> [Call] {
        tracer.signal(SIGINT)
        guard tracer.waitForExit(within: 10) != nil else {
            throw ServeError(message: "strace did not detach from \(traced) within 10 s")
        }
        return Self.parse(try String(contentsOfFile: output, encoding: .utf8))
    }

    /// The complete calls of an strace -f -y record; a call split by another thread's
    /// (`<unfinished ...>`, then `<... name resumed>`) is joined back at its start.
    public static func parse(_ record: String) -> [Call] {
        var calls: [Call] = []
        var unfinished: [pid_t: (index: Int, head: String)] = [:]
        let complete = #/^(\d+)\s+(\w+)\((\d+)<([^>]*)>(.*)\)\s+=\s+(-?\d+)/#
        for line in record.split(separator: "\n").map(String.init) {
            var line = line
            if let start = line.firstMatch(of: #/^(\d+)\s+(.*) <unfinished \.\.\.>$/#) {
                guard let pid = pid_t(start.output.1) else { continue }
                unfinished[pid] = (calls.count, String(start.output.2))
                continue
            }
            var index: Int?
            if let end = line.firstMatch(of: #/^(\d+)\s+<\.\.\. \w+ resumed>(.*)$/#), let pid = pid_t(end.output.1),
                let start = unfinished.removeValue(forKey: pid)
            {
                line = "\(pid) \(start.head)\(end.output.2)"
                index = start.index
            }
            guard let match = line.firstMatch(of: complete), let pid = pid_t(match.output.1),
                let result = Int(match.output.6)
            else { continue }
            let call = Call(
                pid: pid, name: String(match.output.2), path: String(match.output.4),
                arguments: String(match.output.5.trimmingPrefix(", ")), result: result)
            if let index { calls.insert(call, at: min(index, calls.count)) } else { calls.append(call) }
        }
        return calls
    }
}
