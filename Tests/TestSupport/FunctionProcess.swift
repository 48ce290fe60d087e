import Basics
import Foundation
import Hosting

/// One function executable running on its own socket (`FLASHSALE_LISTEN`), outside any web
/// server, for tests that speak FastCGI to it directly. Killed on `stop()` or deinit.
public final class FunctionProcess {
    public let socketPath: String
    public let process: ChildProcess
    private let directory: TemporaryDirectory

    /// `data` is the data directory (`FLASHSALE_DATA`; an empty one of its own by default), and
    /// `environment` is added to the process's.
    public init(
        _ name: String, maxBodyBytes: Int = 1024, data: String? = nil, environment added: [String: String] = [:]
    )
        throws
    {
        directory = try TemporaryDirectory("fn")
        socketPath = "\(directory.path)/\(name).sock"
        var environment = ProcessInfo.processInfo.environment
        environment["FLASHSALE_LISTEN"] = socketPath
        environment["FLASHSALE_MAX_BODY_BYTES"] = String(maxBodyBytes)
        environment["FLASHSALE_DATA"] = data ?? directory.path
        environment.merge(added) { $1 }
        process = try ChildProcess(
            executable: Paths.executable("flashsale-\(name)"), arguments: [], environment: environment)
        let socketPath = socketPath
        guard eventually({ (try? SocketStream(unixPath: socketPath)) != nil }) else {
            stopNow()
            throw POSIXError(.ETIMEDOUT)
        }
    }

    deinit {
        stopNow()
    }

    /// True while the process has not exited.
    public var isRunning: Bool { process.exitStatus() == nil }

    /// Waits (bounded) for the process to exit; its exit status, or nil if it did not.
    public func waitForExit(within seconds: Double = 10) -> Int32? {
        process.waitForExit(within: seconds)
    }

    /// The kernel function the process sleeps in (`/proc/PID/wchan`), such as
    /// `unix_stream_read_generic` while it waits to read from a connection.
    public var waitChannel: String {
        (try? String(contentsOfFile: "/proc/\(process.pid)/wchan", encoding: .utf8)) ?? ""
    }

    private func stopNow() {
        process.signal(SIGKILL)
        process.reap()
        directory.remove()
    }
}
