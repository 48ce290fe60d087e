import Basics
import Foundation
import Hosting
import Synchronization
import TestSupport
import Testing

/// ChildProcess starts programs through its own fork and exec: a failure names the call, and
/// a parent-death signal reaches the child when the thread that started it ends.
@Suite struct ChildProcessTests {
    @Test func aProgramThatCannotRunNamesExecve() {
        #expect(throws: SystemCallError(call: "execve", subject: "/nonexistent/program", errno: ENOENT)) {
            try ChildProcess(executable: "/nonexistent/program", arguments: [])
        }
    }

    @Test func theChildLeadsItsGroupWithEverySignalAtItsDefault() throws {
        let output = try TemporaryDirectory()
        defer { output.remove() }
        // Whatever the test runner blocks or ignores, the child starts with nothing of it.
        let child = try ChildProcess(
            executable: "/bin/sh",
            arguments: [
                "-c", "grep -E '^Sig(Blk|Ign)' /proc/self/status >\"$0\"; ps -o pgid= $$ >>\"$0\"", output.path + "/s",
            ]
        )
        #expect(child.waitForExit(within: 10) == 0)
        let lines = try String(contentsOfFile: output.path + "/s", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.first == "SigBlk:\t0000000000000000")
        // glibc keeps its own two signals (32 and 33, bits 31 and 32) from sigaction.
        let ignored = lines.dropFirst().first.flatMap { UInt64($0.dropFirst("SigIgn:\t".count), radix: 16) }
        #expect(ignored.map { $0 & ~(UInt64(0b11) << 31) } == 0)
        #expect(lines.last.map { pid_t($0.trimmingCharacters(in: .whitespaces)) } == child.pid)
    }

    @Test func theParentDeathSignalArrivesWhenTheStartingThreadEnds() throws {
        let started = Mutex<ChildProcess?>(nil)
        let thread = Thread {
            started.withLock {
                $0 = try? ChildProcess(executable: "/bin/sleep", arguments: ["60"], parentDeathSignal: SIGTERM)
            }
        }
        thread.start()
        #expect(eventually(within: 10) { started.withLock { $0 != nil } })
        let child = try #require(started.withLock { $0 })
        defer {
            child.signal(SIGKILL)
            child.reap()
        }
        #expect(child.waitForExit(within: 10) == 128 + SIGTERM)
    }

    @Test func withoutOneTheChildOutlivesTheStartingThread() throws {
        let started = Mutex<ChildProcess?>(nil)
        let thread = Thread { started.withLock { $0 = try? ChildProcess(executable: "/bin/sleep", arguments: ["60"]) } }
        thread.start()
        #expect(eventually(within: 10) { started.withLock { $0 != nil } })
        let child = try #require(started.withLock { $0 })
        defer {
            child.signal(SIGKILL)
            child.reap()
        }
        #expect(child.waitForExit(within: 1) == nil)
    }
}
