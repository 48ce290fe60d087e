import Basics
import Foundation
import Hosting
import Synchronization

/// A real redis-server on a free loopback port, with a directory of its own, killed by the
/// kernel if the test process dies. `kill()` and `start()` take it away and bring it back on
/// the same port, for reconnection tests; `stop()` ends it for good.
public final class RedisServer: Sendable {
    public let port: Int32
    public let password: String?
    private let directory: TemporaryDirectory
    private let state: Mutex<State>

    private struct State {
        var process: ChildProcess?
        var stopped = false
    }

    /// Starts a server with `requirepass password` when one is given, and an append-only file
    /// when `appendOnly`. Tries another port when a parallel test took the one chosen.
    public init(password: String? = nil, appendOnly: Bool = false) throws {
        let directory = try TemporaryDirectory("redis")
        do {
            let (port, process) = try Self.launchOnFreePort(
                directory: directory.path, password: password, appendOnly: appendOnly)
            (self.port, self.password, self.directory) = (port, password, directory)
            state = Mutex(State(process: process))
        } catch {
            directory.remove()
            throw error
        }
    }

    deinit {
        stop()
    }

    /// One server for the whole test process, started on first use. Tests that share it keep to
    /// keys of their own (a unique prefix) and never stop, kill or flush it.
    public static func shared() throws -> RedisServer {
        try sharedServer.withLock { server in
            if let server { return server }
            let started = try RedisServer()
            server = started
            atexit { RedisServer.sharedServer.withLock { $0 }?.stop() }
            return started
        }
    }

    private static let sharedServer = Mutex<RedisServer?>(nil)

    /// `redis://[:password@]127.0.0.1:port`; append `/n` for database n.
    public var url: String {
        let credentials = password.map {
            ":\($0.addingPercentEncoding(withAllowedCharacters: .urlPasswordAllowed) ?? $0)@"
        }
        return "redis://\(credentials ?? "")127.0.0.1:\(port)"
    }

    /// Kills the server at once (SIGKILL), as a crash would; `start()` brings it back.
    public func kill() {
        state.withLock { state in
            guard let process = state.process else { return }
            process.signal(SIGKILL)
            _ = process.waitForExit(within: 10)
            state.process = nil
        }
    }

    /// Starts the server again on the same port after `kill()`; nothing when it runs.
    public func start() throws {
        try state.withLock { state in
            guard !state.stopped else { throw RedisServerError(message: "redis-server was stopped for good") }
            guard state.process == nil else { return }
            state.process = try Self.launch(directory: directory.path, port: port, password: password)
        }
    }

    /// Stops the server (SIGTERM, then SIGKILL after 10 s) and removes its directory. Idempotent.
    public func stop() {
        let wasRunning = state.withLock { state in
            guard !state.stopped else { return false }
            state.stopped = true
            if let process = state.process, process.exitStatus() == nil {
                process.signal(SIGTERM)
                if process.waitForExit(within: 10) == nil {
                    process.signal(SIGKILL)
                    process.reap()
                }
            }
            state.process = nil
            return true
        }
        if wasRunning { directory.remove() }
    }

    private static func configuration(port: Int32, directory: String, password: String?, appendOnly: Bool) -> String {
        let lines = [
            "port \(port)", "bind 127.0.0.1", "save \"\"", "appendonly \(appendOnly ? "yes" : "no")",
            "dir \(quoted(directory))", "logfile \(quoted("\(directory)/redis.log"))", "daemonize no",
            "enable-debug-command local",
        ]
        return (lines + (password.map { ["requirepass \(quoted($0))"] } ?? [])).joined(separator: "\n") + "\n"
    }

    private static func quoted(_ value: String) -> String {
        "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    private static func launchOnFreePort(directory: String, password: String?, appendOnly: Bool) throws -> (
        Int32, ChildProcess
    ) {
        for _ in 1...3 {
            let port = Int32(try freePort())
            try configuration(port: port, directory: directory, password: password, appendOnly: appendOnly)
                .write(toFile: "\(directory)/redis.conf", atomically: true, encoding: .utf8)
            do {
                return (port, try launch(directory: directory, port: port, password: password))
            } catch let error as RedisServerError where error.portWasTaken {
                continue
            }
        }
        throw RedisServerError(message: "redis-server found no free port in three tries")
    }

    /// Starts redis-server on the configuration in `directory` and waits, at most 10 s, until
    /// it answers PING.
    private static func launch(directory: String, port: Int32, password: String?) throws -> ChildProcess {
        let logFile = "\(directory)/redis.log"
        try? FileManager.default.removeItem(atPath: logFile)
        let process = try ProcessStarter.start("/usr/bin/redis-server", ["\(directory)/redis.conf"])
        let answered = eventually(within: 10) {
            process.exitStatus() != nil || answersPing(port: port, password: password)
        }
        guard answered, process.status == nil else {
            process.signal(SIGKILL)
            process.reap()
            let log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
            throw RedisServerError(
                message: "redis-server on port \(port) exited or did not answer PING within 10 s:\n\(log)",
                portWasTaken: log.contains("Address already in use"))
        }
        return process
    }

    /// True when the server answers PING (after AUTH when it has a password) with PONG.
    private static func answersPing(port: Int32, password: String?) -> Bool {
        guard let socket = try? SocketStream(port: Int(port), timeoutSeconds: 1) else { return false }
        let commands = (password.map { [["AUTH", $0]] } ?? []) + [["PING"]]
        guard (try? socket.write(commands.flatMap(encoded))) != nil else { return false }
        var answer: [UInt8] = []
        for _ in 0..<commands.count {
            guard let part = try? socket.read(atMost: 512), !part.isEmpty else { return false }
            answer += part
            if String(decoding: answer, as: UTF8.self).hasSuffix("+PONG\r\n") { return true }
        }
        return false
    }

    /// One command in RESP: an array of bulk strings.
    private static func encoded(_ command: [String]) -> [UInt8] {
        Array(command.map { "$\($0.utf8.count)\r\n\($0)\r\n" }.reduce("*\(command.count)\r\n", +).utf8)
    }
}

public struct RedisServerError: Error, CustomStringConvertible {
    public var message: String
    var portWasTaken = false
    public var description: String { message }
}

/// Starts children from one thread that lives as long as the test process, with SIGKILL as
/// their parent-death signal. The kernel sends that signal when the *thread* that forked the
/// child ends, and the pool threads tests run on end when idle for a few seconds.
private enum ProcessStarter {
    private static let requests = Mutex<[@Sendable () -> Void]>([])
    private static let requested = DispatchSemaphore(value: 0)
    private static let thread: Void = {
        Thread {
            // Unbounded on purpose: the thread's end would kill every server it started.
            while true {
                requested.wait()
                let taken = requests.withLock { pending in
                    defer { pending = [] }
                    return pending
                }
                for request in taken { request() }
            }
        }.start()
    }()

    static func start(_ executable: String, _ arguments: [String]) throws -> ChildProcess {
        _ = thread
        let outcome = Mutex<Result<ChildProcess, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        requests.withLock {
            $0.append {
                outcome.withLock {
                    $0 = Result {
                        try ChildProcess(executable: executable, arguments: arguments, parentDeathSignal: SIGKILL)
                    }
                }
                done.signal()
            }
        }
        requested.signal()
        guard done.wait(timeout: .now() + 10) == .success, let started = outcome.withLock({ $0.take() }) else {
            throw RedisServerError(message: "the starting thread did not start \(executable) within 10 s")
        }
        return try started.get()
    }
}
