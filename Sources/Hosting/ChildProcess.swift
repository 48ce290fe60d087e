import Basics
import CProcessShims
import Foundation

/// A process started (fork and execve, ``flashsale_spawn``) as the leader of a new process
/// group, so it and every process it spawns can be signalled together, with an empty signal
/// mask and every signal at its default.
/// Once reaped, it is never signalled again: its pid may belong to another process by then.
public final class ChildProcess {
    public let pid: pid_t
    /// The exit status once reaped: the exit code, or 128 + the signal that ended it.
    public private(set) var status: Int32?

    /// Starts `executable`. With `parentDeathSignal`, the kernel sends the child that signal
    /// when the calling thread exits, however it exits (kill -9 included): start such a child
    /// from a thread that lives as long as this process, the main thread.
    public init(
        executable: String, arguments: [String], environment: [String: String]? = nil,
        parentDeathSignal: Int32? = nil
    ) throws {
        let argv = [executable] + arguments
        let envp = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        var failedCall: UnsafePointer<CChar>?
        let pid = withCStrings(argv) { argvPointer in
            withCStrings(envp) { envpPointer in
                flashsale_spawn(executable, argvPointer, envpPointer, parentDeathSignal ?? 0, &failedCall)
            }
        }
        guard pid > 0 else {
            throw SystemCallError(
                call: failedCall.map { String(cString: $0) } ?? "fork", subject: executable, errno: errno)
        }
        self.pid = pid
    }

    /// Sends `signo` to the process, unless it has been reaped.
    public func signal(_ signo: Int32) {
        if status == nil { kill(pid, signo) }
    }

    /// Sends `signo` to every process left in the group, the leader's children included.
    public func signalGroup(_ signo: Int32) {
        kill(-pid, signo)
    }

    /// True while any process of the group exists.
    public var groupIsAlive: Bool {
        kill(-pid, 0) == 0
    }

    /// Waits for the process to exit and reaps it.
    public func reap() {
        while status == nil {
            var raw: Int32 = 0
            let rc = waitpid(pid, &raw, 0)
            if rc == pid {
                status = Self.decode(raw)
            } else if rc == -1 && errno != EINTR {
                return
            }
        }
    }

    /// Waits up to `seconds` for the process to exit and reaps it: its exit status, or nil if
    /// it is still running.
    public func waitForExit(within seconds: Double) -> Int32? {
        _ = eventually(within: seconds) { exitStatus() != nil }
        return status
    }

    /// Reaps the process if it has exited: its exit status, or nil while it runs.
    public func exitStatus() -> Int32? {
        if status == nil {
            var raw: Int32 = 0
            if waitpid(pid, &raw, WNOHANG) == pid {
                status = Self.decode(raw)
            }
        }
        return status
    }

    private static func decode(_ raw: Int32) -> Int32 {
        let signalled = raw & 0x7f
        return signalled == 0 ? (raw >> 8) & 0xff : 128 + signalled
    }
}

/// Calls `body` with a NULL-terminated array of C strings that lives for the call.
private func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    // strdup'd copies owned here and freed after the call; the child has its own copy by then.
    let pointers = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return body(pointers)
}
