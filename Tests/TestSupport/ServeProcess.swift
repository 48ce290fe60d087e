import Basics
import Foundation
import Hosting
import Synchronization

/// `flashsale serve` on a free loopback port with a fresh data directory: real lighttpd,
/// real function processes. `stop()` stops it the way an operator does; deinit makes sure
/// nothing it started survives a failed test.
public final class ServeProcess {
    public let host: String
    public let port: Int
    public let data: DataDirectory
    public let process: ChildProcess
    private let directory: TemporaryDirectory

    /// Serves on `host` the functions in `root`/functions (the project's by default), built in
    /// `bin`, with `workingDirectory` as the current directory (for relative paths). `command`
    /// is `serve` or `demo`, with its own `arguments`; `data` is a fresh directory unless given.
    public init(
        host: String = "127.0.0.1", root: String = Paths.packageRoot, bin: String = Paths.binDirectory,
        workingDirectory: String = Paths.packageRoot, command: String = "serve", arguments: [String] = [],
        data given: DataDirectory? = nil
    ) throws {
        let directory = try TemporaryDirectory("serve")
        let data = given ?? DataDirectory(path: "\(directory.path)/var")
        let log = "\(directory.path)/serve.log"
        try ChildProcess(executable: Paths.executable("flashsale"), arguments: ["init", "--data", data.path]).reap()
        // A free port can be taken by a parallel test before serve binds it: then try another.
        for _ in 1...3 {
            let port = try freePort()
            let command =
                [
                    Paths.executable("flashsale"), command, "--data", data.path, "--host", host, "--port", String(port),
                    "--root", root, "--bin", bin,
                ] + arguments
            let process = try ChildProcess(
                executable: "/bin/sh",
                arguments: ["-c", "cd \"\(workingDirectory)\" && exec \"$@\" >\"\(log)\" 2>&1", "sh"] + command)
            let answered = eventually(within: 30) {
                process.exitStatus() != nil
                    || (try? HTTPClient.request(host: host, port: port, target: "/api/time"))?.status == 200
            }
            if answered && process.status == nil {
                (self.host, self.port, self.process, self.data, self.directory) = (host, port, process, data, directory)
                Self.enrol(pid: process.pid, data: data)
                return
            }
            Self.killEverything(process, data: data)
            // Another test may have bound the port after PortCheck did: serve or lighttpd then
            // fails at once, and another port is tried; anything else is a failure to report.
            let printed = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            let lighttpdLog = (try? String(contentsOfFile: data.logs + "/lighttpd-error.log", encoding: .utf8)) ?? ""
            if !(printed + lighttpdLog).contains("in use") {
                directory.remove()
                throw ServeError(message: "flashsale serve did not answer within 30 s:\n\(printed)\n\(lighttpdLog)")
            }
        }
        directory.remove()
        throw ServeError(message: "flashsale serve found no free port in three tries")
    }

    deinit {
        cleanUp()
    }

    /// What `flashsale serve` printed.
    public var log: String {
        (try? String(contentsOfFile: "\(directory.path)/serve.log", encoding: .utf8)) ?? ""
    }

    /// lighttpd's pid, from its pid file.
    public var lighttpdPID: pid_t? { Self.lighttpdPID(data) }

    private static func lighttpdPID(_ data: DataDirectory) -> pid_t? {
        (try? String(contentsOfFile: data.lighttpdPidFile, encoding: .utf8))
            .flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Pids of the running processes of function `name` that serve this data directory.
    public func functionPIDs(_ name: String) -> [pid_t] {
        runningPIDs(executable: Paths.executable("flashsale-\(name)"), dataDirectory: data.path)
    }

    /// Sends `signo` (SIGTERM by default, as an operator would) and waits (bounded) for serve
    /// to exit; its status.
    public func stop(with signo: Int32 = SIGTERM, within seconds: Double = 20) -> Int32? {
        process.signal(signo)
        return process.waitForExit(within: seconds)
    }

    private func cleanUp() {
        Self.killEverything(process, data: data)
        Self.live.withLock { _ = $0.removeValue(forKey: process.pid) }
        directory.remove()
    }

    /// Kills serve, lighttpd's process group and any function left for this data directory.
    private static func killEverything(_ serve: ChildProcess, data: DataDirectory) {
        serve.signal(SIGKILL)
        serve.reap()
        killServed(data)
    }

    private static func killServed(_ data: DataDirectory) {
        if let lighttpd = lighttpdPID(data), kill(lighttpd, 0) == 0 {
            kill(-lighttpd, SIGKILL)
        }
        for pid in runningPIDs(executable: nil, dataDirectory: data.path) {
            kill(pid, SIGKILL)
        }
    }

    /// Every serve not cleaned up yet, by pid. When the test run exits, what is left is killed:
    /// a test whose buyer threads still hold its shop as the run ends never reaches deinit.
    private static let live = Mutex<[pid_t: DataDirectory]>([:])

    private static func enrol(pid: pid_t, data: DataDirectory) {
        live.withLock { $0[pid] = data }
        _ = killAtExit
    }

    private static let killAtExit: Void = {
        atexit {
            for (pid, data) in ServeProcess.live.withLock({ $0 }) {
                kill(pid, SIGKILL)
                ServeProcess.killServed(data)
            }
        }
    }()
}

public struct ServeError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Live (not zombie) processes whose environment says `FLASHSALE_DATA=dataDirectory`, and
/// whose executable is `executable` when one is given.
public func runningPIDs(executable: String?, dataDirectory: String) -> [pid_t] {
    let marker = Array("FLASHSALE_DATA=\(dataDirectory)".utf8)
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { pid_t($0) }.filter { pid in
        // FileHandle reads the whole file; FileManager's contents(atPath:) one page of it.
        guard let handle = FileHandle(forReadingAtPath: "/proc/\(pid)/environ"),
            let environ = try? handle.readToEnd(),
            environ.split(separator: 0).contains(where: { Array($0) == marker }),
            let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let state = stat.split(separator: ")").last?.split(separator: " ").first, state != "Z"
        else { return false }
        guard let executable else { return true }
        return (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) == executable
    }
}
