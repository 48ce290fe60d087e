import Basics
import Foundation
import Hosting
import Synchronization

/// A real PostgreSQL server for tests: a fresh cluster (initdb) in a temporary directory,
/// listening on a free loopback port, with fsync and synchronous_commit at their defaults (on).
/// The role `flashsale` logs in without a password (trust); members of the group role
/// `password_users` must give theirs (scram-sha-256), for tests of a refused login.
///
/// As root (CI), initdb and postgres run as the `postgres` account, since postgres refuses to
/// run as root. The server gets SIGKILL when the test process ends, however it ends
/// (`setpriv --pdeathsig=KILL`, armed from a thread that lives as long as the process).
public final class PostgresServer: Sendable {
    public let port: Int32
    private let directory: TemporaryDirectory
    private let bin: String
    /// The running postmaster (nil while killed or stopped), and whether `stop` has run.
    private let state: Mutex<(postmaster: ChildProcess?, stopped: Bool)>
    private let created = Mutex(0)

    /// Creates the cluster and starts the server; waits (bounded) until it accepts connections.
    public init() throws {
        let directory = try TemporaryDirectory("pg")
        let started: (bin: String, port: Int32, postmaster: ChildProcess)
        do {
            let bin = try Self.binDirectory()
            if geteuid() == 0 { try Self.giveToPostgres(directory.path) }
            try Self.run(
                Self.asPostgres + [bin + "/initdb", "-D", directory.path + "/data", "-U", "flashsale", "--auth=trust"]
                    + ["-E", "UTF8", "--locale=C", "--no-sync"], in: directory.path, within: 120)
            let hba = directory.path + "/data/pg_hba.conf"
            let rules = try String(contentsOfFile: hba, encoding: .utf8)
            // Written in place, not atomically: the file stays the postgres account's.
            try ("host all +password_users 127.0.0.1/32 scram-sha-256\n" + rules)
                .write(toFile: hba, atomically: false, encoding: .utf8)
            let (port, postmaster) = try Self.startOnAFreePort(directory: directory.path, bin: bin)
            started = (bin, port, postmaster)
        } catch {
            directory.remove()
            throw error
        }
        (self.directory, bin, port) = (directory, started.bin, started.port)
        state = Mutex((started.postmaster, false))
        do {
            try psql("CREATE ROLE password_users NOLOGIN")
        } catch {
            stop()
            throw error
        }
    }

    deinit {
        stop()
    }

    /// The `postgres` database, as the `flashsale` role.
    public var url: String { url(database: "postgres") }

    public func url(database: String) -> String { "postgres://flashsale@127.0.0.1:\(port)/\(database)" }

    /// Creates a fresh database named `name` (lower-case letters, digits, `_`) plus a suffix
    /// unique on this server, and returns its URL. One database per test on a shared server is
    /// far cheaper than a server per test.
    public func createDatabase(_ name: String) throws -> String {
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }) else {
            throw ServeError(message: "database name \(name) is not lower-case letters, digits and _")
        }
        let database = "\(name)_\(created.withLock { $0 += 1; return $0 })"
        try psql("CREATE DATABASE \(database)")
        return url(database: database)
    }

    /// Runs `sql` with psql as `flashsale` on `database`; what it printed (unaligned, no headers).
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        try Self.run(
            [bin + "/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(port)]
                + ["-U", "flashsale", "-d", database, "-c", sql], in: directory.path, within: 30)
    }

    /// SIGKILL to the server, its backends included, as when its machine dies; waits (bounded)
    /// until none of them is left. `start()` brings it back (after crash recovery).
    public func kill() {
        state.withLock { state in
            guard let postmaster = state.postmaster else { return }
            Self.killServer(postmaster)
            state.postmaster = nil
        }
    }

    /// Starts the server again on the same data directory and port, after `kill()`.
    public func start() throws {
        try state.withLock { state in
            guard !state.stopped, state.postmaster == nil else { return }
            state.postmaster = try Self.startPostmaster(directory: directory.path, bin: bin, port: port)
        }
    }

    /// Fast shutdown (SIGINT), bounded, then SIGKILL; removes the directory. Idempotent.
    public func stop() {
        state.withLock { state in
            guard !state.stopped else { return }
            state.stopped = true
            if let postmaster = state.postmaster {
                postmaster.signal(SIGINT)
                if postmaster.waitForExit(within: 30) == nil { Self.killServer(postmaster) }
                state.postmaster = nil
            }
            directory.remove()
        }
    }

    /// One server for the whole test process, started by the first caller; tests give each
    /// other room by each using its own database (`createDatabase`), and never kill or stop
    /// it. It is stopped at exit (atexit, which also removes its directory); should the
    /// process die without running atexit, the parent-death signal still kills the server.
    public static func shared() throws -> PostgresServer {
        try sharedServer.withLock { server in
            if server == nil {
                server = Result { try PostgresServer() }
                atexit { (try? PostgresServer.sharedServer.withLock { try $0?.get() })?.stop() }
            }
            return try server!.get()
        }
    }

    private static let sharedServer = Mutex<Result<PostgresServer, any Error>?>(nil)

    /// initdb and postgres refuse to run as root: as root, they run as `postgres`.
    private static let asPostgres: [String] =
        geteuid() == 0 ? ["/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"] : []

    /// Starts the postmaster on a free port; another one when a parallel test took the port
    /// between the check and postgres binding it.
    private static func startOnAFreePort(directory: String, bin: String) throws -> (Int32, ChildProcess) {
        var failure: (any Error)?
        for _ in 1...3 {
            let port = Int32(try freePort())
            do {
                return (port, try startPostmaster(directory: directory, bin: bin, port: port))
            } catch {
                failure = error
            }
        }
        throw failure ?? ServeError(message: "postgres found no free port")
    }

    /// Starts postgres and waits (bounded) until its pid file says it accepts connections.
    /// postgres writes its log to `directory`/postgres.log.
    private static func startPostmaster(directory: String, bin: String, port: Int32) throws -> ChildProcess {
        let account = geteuid() == 0 ? asPostgres.dropLast() : ["/usr/bin/setpriv"]
        let command =
            account + ["--pdeathsig=KILL", "--", bin + "/postgres", "-D", directory + "/data", "-k", directory]
            + ["-p", String(port), "-c", "listen_addresses=127.0.0.1"]
        let log = directory + "/postgres.log"
        let postmaster = try ProcessLauncher.shared.start(
            "/bin/sh", ["-c", "cd \"$0\" && exec \"$@\" >>\"$0/postgres.log\" 2>&1", directory] + command)
        // postmaster.pid: pid, …, and on line 8 "ready" once it accepts connections. A killed
        // server's file stays behind until the new postmaster replaces it.
        let ready = eventually(within: 30) {
            let lines = (try? String(contentsOfFile: directory + "/data/postmaster.pid", encoding: .utf8))?
                .split(separator: "\n", omittingEmptySubsequences: false)
            return postmaster.exitStatus() != nil
                || (lines?.first == "\(postmaster.pid)" && lines?.dropFirst(7).first?.hasPrefix("ready") == true)
        }
        guard ready, postmaster.status == nil else {
            killServer(postmaster)
            let printed = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw ServeError(message: "postgres did not become ready on port \(port) within 30 s:\n\(printed)")
        }
        return postmaster
    }

    /// SIGKILL to the postmaster and every process it started, as when the machine dies;
    /// waits (bounded) until all are gone. Backends lead process groups of their own (setsid),
    /// so they are found as the postmaster's children, which it is stopped first to keep fixed.
    private static func killServer(_ postmaster: ChildProcess) {
        postmaster.signal(SIGSTOP)
        let children = processStates().filter { $0.parent == postmaster.pid && $0.state != "Z" }.map(\.pid)
        postmaster.signal(SIGKILL)
        for child in children { Glibc.kill(child, SIGKILL) }
        postmaster.reap()
        _ = eventually(within: 10) {
            let running = Set(processStates().filter { $0.state != "Z" }.map(\.pid))
            return running.isDisjoint(with: children)
        }
    }

    /// Every process's pid, state letter (`Z`: zombie) and parent, from /proc/PID/stat.
    private static func processStates() -> [(pid: pid_t, state: Substring, parent: pid_t)] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry in
            // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ")".
            guard let pid = pid_t(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let fields = stat.split(separator: ")").last?.split(separator: " "), fields.count > 1,
                let parent = pid_t(fields[1])
            else { return nil }
            return (pid, fields[0], parent)
        }
    }

    /// The PostgreSQL server binaries: `$FLASHSALE_PG_BINDIR`, else `pg_config --bindir`.
    private static func binDirectory() throws -> String {
        if let bin = ProcessInfo.processInfo.environment["FLASHSALE_PG_BINDIR"] { return bin }
        return try run(["pg_config", "--bindir"], in: "/", within: 30)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs `command` in `directory` to completion (bounded); what it printed, or an error that
    /// says it when it fails.
    @discardableResult
    private static func run(_ command: [String], in directory: String, within seconds: Double) throws -> String {
        let output = try TemporaryDirectory("pg-out")
        defer { output.remove() }
        let process = try ChildProcess(
            executable: "/bin/sh",
            arguments: ["-c", "cd \"$0\" && exec \"$@\" >\"\(output.path)/out\" 2>&1", directory] + command)
        let status = process.waitForExit(within: seconds)
        if status == nil {
            process.signalGroup(SIGKILL)
            process.reap()
        }
        let printed = (try? String(contentsOfFile: output.path + "/out", encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw ServeError(
                message:
                    "\(command.joined(separator: " ")) failed (\(status.map(String.init) ?? "timeout")): \(printed)")
        }
        return printed
    }

    /// Makes the (new, mode 0700) directory the postgres account's.
    private static func giveToPostgres(_ path: String) throws {
        guard let account = getpwnam("postgres") else { throw ServeError(message: "no postgres account") }
        guard chown(path, account.pointee.pw_uid, account.pointee.pw_gid) == 0 else {
            throw POSIXError(.init(rawValue: errno) ?? .EPERM)
        }
    }
}

/// Starts processes from one thread that lives as long as the test process. A parent-death
/// signal fires when the *thread* that started the child ends, and the test runner's worker
/// threads come and go.
private final class ProcessLauncher: Sendable {
    static let shared = ProcessLauncher()
    private let jobs = Mutex<[@Sendable () -> Void]>([])
    private let pending = DispatchSemaphore(value: 0)

    private init() {
        Thread { [self] in
            while true {
                pending.wait()
                let job = jobs.withLock { $0.removeFirst() }
                job()
            }
        }.start()
    }

    func start(_ executable: String, _ arguments: [String]) throws -> ChildProcess {
        let outcome = Outcome()
        jobs.withLock {
            $0.append {
                outcome.result.withLock {
                    $0 = Result { try ChildProcess(executable: executable, arguments: arguments) }
                }
                outcome.done.signal()
            }
        }
        pending.signal()
        guard outcome.done.wait(timeout: .now() + 30) == .success else {
            throw ServeError(message: "the launcher thread did not start \(executable) within 30 s")
        }
        return try outcome.result.withLock { $0.take()! }.get()
    }

    /// What one start gave, handed from the launcher thread to the caller.
    private final class Outcome: Sendable {
        let result = Mutex<Result<ChildProcess, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
    }
}
