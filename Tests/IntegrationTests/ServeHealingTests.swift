import Basics
import Foundation
import Hosting
import TestSupport
import Testing

/// `flashsale serve` heals its host: a dead lighttpd is started again, one that keeps dying
/// ends serve with a status its supervisor acts on, nothing outlives serve, and a new serve
/// stops whatever an old one left before it starts.
@Suite struct ServeHealingTests {
    @Test func lighttpdKilledIsRestartedAndABuyerOrders() throws {
        let shop = try LiveShop()
        let serve = try #require(shop.host as? ServeProcess)
        try shop.createSale("heal", stock: 2)
        let killed = try #require(serve.lighttpdPID)
        let oldFunctions = serve.functionPIDs("order") + serve.functionPIDs("time")
        #expect(!oldFunctions.isEmpty)
        kill(killed, SIGKILL)
        #expect(eventually(within: 20) { serve.log.contains("flashsale: lighttpd restarted") }, "\(serve.log)")
        #expect(
            serve.log.contains(
                "flashsale: lighttpd exited with status 137; restarting it in 0.1 s (exit 1 of 5 allowed within 60 s); see \(serve.data.logs)/lighttpd-error.log"
            ), "\(serve.log)")
        let answer = try shop.buyRetrying("alice", sale: "heal")
        #expect(answer?.status == 201, "\(shop.logTail)")
        #expect(serve.process.exitStatus() == nil)
        let restarted = try #require(serve.lighttpdPID)
        #expect(restarted != killed && parent(of: restarted) == serve.process.pid)
        // The dead lighttpd's functions went before the new one spawned on their sockets.
        #expect(oldFunctions.allSatisfy { !isRunning($0) })
        #expect(serve.stop() == 0)
    }

    @Test func aLighttpdThatKeepsDyingEndsServeWithItsStatus() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        #expect(try FlashsaleCommand.run("init --data \(directory.path)/var").status == 0)
        let starts = "\(directory.path)/starts"
        let lighttpd = "\(directory.path)/lighttpd"
        try Data("#!/bin/sh\necho \"$@\" >>\"\(starts)\"\nexit 3\n".utf8).write(to: URL(fileURLWithPath: lighttpd))
        chmod(lighttpd, 0o755)
        let result = try FlashsaleCommand.run(
            "serve --data \(directory.path)/var --port \(try freePort()) --root \(Paths.packageRoot)",
            environment: ["FLASHSALE_LIGHTTPD": lighttpd])
        #expect(result.status == LighttpdRestarts.gaveUpStatus, "\(result.stderr)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.filter { $0.contains("lighttpd exited with status 3; restarting it in") }.count == 5)
        #expect(
            lines.last
                == "flashsale: lighttpd exited with status 3, its 6th exit within 60 s: giving up (exit 69); see \(directory.path)/var/log/lighttpd-error.log"
        )
        #expect(try String(contentsOfFile: starts, encoding: .utf8).split(separator: "\n").count == 6)
    }

    @Test func serveKilledLeavesNothingAndTheNextServeStartsCleanly() throws {
        let first = try ServeProcess()
        let lighttpd = try #require(first.lighttpdPID)
        let functions = runningPIDs(executable: nil, dataDirectory: first.data.path)
        #expect(functions.count > 10)
        _ = first.stop(with: SIGKILL)
        let leftovers = { [lighttpd] + runningPIDs(executable: nil, dataDirectory: first.data.path) }
        #expect(eventually(within: 15) { leftovers().allSatisfy { !isRunning($0) } }, "\(leftovers())")

        let second = try ServeProcess(data: first.data)
        #expect(try HTTPClient.request(port: second.port, target: "/api/noop").status == 200)
        #expect(!second.log.contains("left running"), "\(second.log)")
        #expect(second.stop() == 0)
        withExtendedLifetime(first) {}  // It holds the data directory.
    }

    @Test func aNewServeStopsWhatAnOldOneLeftFirst() throws {
        let old = try ServeProcess()
        #expect(old.stop() == 0)
        let data = old.data
        // What a serve that died hard leaves: its lighttpd with the old configuration, and a
        // function on a socket named like lighttpd's, daemonised (its own session) so it has no
        // parent to follow.
        let lighttpd = try ChildProcess(executable: "/usr/sbin/lighttpd", arguments: ["-D", "-f", data.lighttpdConfig])
        defer {
            lighttpd.signalGroup(SIGKILL)
            lighttpd.reap()
        }
        #expect(
            eventually(within: 20) { (try? HTTPClient.request(port: old.port, target: "/api/time"))?.status == 200 })
        let orphanSocket = "\(data.sockets)/gone.sock-0"
        #expect(
            try ChildProcessRunner.run(
                "exec spawn-fcgi -s \"\(orphanSocket)\" -- \"\(Paths.executable("flashsale-noop"))\" >/dev/null",
                environment: ProcessInfo.processInfo.environment.merging([DataDirectory.environmentVariable: data.path])
                { $1 }) == 0)
        let orphan = try #require(
            runningPIDs(executable: Paths.executable("flashsale-noop"), dataDirectory: data.path).first {
                parent(of: $0) != lighttpd.pid
            })
        defer { kill(orphan, SIGKILL) }

        let new = try ServeProcess(data: data)
        #expect(
            new.log.contains(
                "flashsale: stopping what an earlier serve left running on \(data.path): lighttpd \(lighttpd.pid), functions "
            ), "\(new.log)")
        #expect(new.log.contains(" \(orphan)"), "\(new.log)")
        #expect(lighttpd.waitForExit(within: 20) != nil)
        #expect(eventually(within: 20) { !isRunning(orphan) })
        #expect(!FileManager.default.fileExists(atPath: orphanSocket))
        // The pid file is the new lighttpd's, written by it.
        #expect(new.lighttpdPID.map(parent(of:)) == new.process.pid)
        #expect(try HTTPClient.request(port: new.port, target: "/api/noop").status == 200)
        #expect(new.stop() == 0)
        withExtendedLifetime(old) {}  // It holds the data directory.
    }

    /// Only a lighttpd is taken for a leftover lighttpd: a `tail -f` of the configuration lives
    /// on. A leftover started on another spelling of the data directory (a symbolic link) is
    /// found, lighttpd by its `-f` and its functions by their sockets' bind paths.
    @Test func aNewServeStopsALeftoverOnALinkAndLeavesATailOfTheConfiguration() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = DataDirectory(path: "\(directory.path)/var")
        let linked = DataDirectory(path: "\(directory.path)/link")
        #expect(try FlashsaleCommand.run("init --data \(data.path)").status == 0)
        #expect(symlink(data.path, linked.path) == 0)
        // Its configuration names the data directory through the link.
        let old = try ServeProcess(data: linked)
        #expect(old.stop() == 0)
        let lighttpd = try ChildProcess(
            executable: "/usr/sbin/lighttpd", arguments: ["-D", "-f", linked.lighttpdConfig])
        defer {
            lighttpd.signalGroup(SIGKILL)
            lighttpd.reap()
        }
        #expect(
            eventually(within: 20) { (try? HTTPClient.request(port: old.port, target: "/api/time"))?.status == 200 })
        let functions = runningPIDs(executable: nil, dataDirectory: linked.path)
        #expect(!functions.isEmpty)
        let tail = try ChildProcess(executable: "/usr/bin/tail", arguments: ["-n", "0", "-f", data.lighttpdConfig])
        defer {
            tail.signal(SIGKILL)
            tail.reap()
        }

        let new = try ServeProcess(data: data)
        #expect(
            new.log.contains(
                "flashsale: stopping what an earlier serve left running on \(data.path): lighttpd \(lighttpd.pid), functions "
            ), "\(new.log)")
        #expect(functions.allSatisfy { new.log.contains(" \($0)") }, "\(functions): \(new.log)")
        #expect(lighttpd.waitForExit(within: 20) != nil)
        #expect(eventually(within: 20) { functions.allSatisfy { !isRunning($0) } })
        #expect(tail.exitStatus() == nil && isRunning(tail.pid))
        #expect(try HTTPClient.request(port: new.port, target: "/api/noop").status == 200)
        #expect(new.stop() == 0)
        withExtendedLifetime(old) {}  // It holds the data directory.
    }
}

/// serve's own lines go to a stderr that may fail (a full disk under the journal's file, a
/// closed pipe): serve, and every command, carries on without them.
@Suite struct ServeStderrTests {
    @Test func serveWhoseStderrIsFullServesHealsAndStops() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = DataDirectory(path: "\(directory.path)/var")
        #expect(try FlashsaleCommand.run("init --data \(data.path)").status == 0)
        let port = try freePort()
        let serve = try ChildProcess(
            executable: "/bin/sh",
            arguments: [
                "-c", "exec \"$0\" serve --data \"$1\" --port \"$2\" --bin \"$3\" 2>/dev/full",
                Paths.executable("flashsale"), data.path, String(port), Paths.binDirectory,
            ])
        defer {
            serve.signal(SIGKILL)
            serve.reap()
        }
        let answers = { (try? HTTPClient.request(port: port, target: "/api/time"))?.status == 200 }
        #expect(eventually(within: 30) { answers() || serve.exitStatus() != nil }, "serve exited \(serve.status ?? 0)")
        // A restart is logged: with FileHandle's write, the line that fails stops serve.
        let lighttpd = try #require(
            (try? String(contentsOfFile: data.lighttpdPidFile, encoding: .utf8)).flatMap {
                pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines))
            })
        kill(lighttpd, SIGKILL)
        #expect(eventually(within: 30) { (kill(lighttpd, 0) != 0 && answers()) || serve.exitStatus() != nil })
        #expect(serve.exitStatus() == nil)
        serve.signal(SIGTERM)
        #expect(serve.waitForExit(within: 20) == 0)
    }

    @Test func aFailingCommandWhoseStderrIsFullExitsOne() throws {
        let status = try ChildProcessRunner.run(
            "exec \"\(Paths.executable("flashsale"))\" sale show nope --data /nonexistent 2>/dev/full")
        #expect(status == 1)
    }
}

/// A function handed its socket by a parent stops, cleanly, when that parent dies however it
/// dies, and not before: under lighttpd, and under multiwatch (`flashsale config spawn`).
@Suite struct ParentDeathTests {
    @Test func functionsStopWhenTheirLighttpdIsKilled() throws {
        let stopped = try ServeProcess()
        #expect(stopped.stop() == 0)
        let data = stopped.data
        let lighttpd = try ChildProcess(executable: "/usr/sbin/lighttpd", arguments: ["-D", "-f", data.lighttpdConfig])
        defer {
            lighttpd.signalGroup(SIGKILL)
            lighttpd.reap()
        }
        // Every process lighttpd starts (processes.max of each function), each waiting for requests.
        let expected = try Manifest.loadAll(from: Paths.packageRoot + "/functions").filter { !$0.isDemoOnly }
            .map(\.processes.max).reduce(0, +)
        let functions = { runningPIDs(executable: nil, dataDirectory: data.path) }
        #expect(eventually(within: 20) { functions().count == expected && functions().allSatisfy(isWaiting) })
        let killed = functions()
        lighttpd.signal(SIGKILL)
        lighttpd.reap()
        #expect(
            eventually(within: 15) { killed.allSatisfy { !isRunning($0) } },
            "\(killed.filter(isRunning).map { "\($0): wchan \(wchan($0)), parent \(parent(of: $0) ?? 0)" })")
        let log = (try? String(contentsOfFile: data.functionLog, encoding: .utf8)) ?? ""
        #expect(!log.contains("crashed"), "\(log)")
        withExtendedLifetime(stopped) {}  // It holds the data directory.
    }

    @Test func functionsLiveWithMultiwatchAndStopWhenItIsKilled() throws {
        let spawned = try SpawnedTime()
        defer { spawned.remove() }
        let (service, running) = (spawned.service, spawned.running)
        #expect(eventually(within: 20) { running().count == 2 })
        // One killed is replaced by multiwatch, which lives on: the other keeps running.
        let first = running()
        kill(first[0], SIGKILL)
        #expect(eventually(within: 20) { running().count == 2 && !running().contains(first[0]) })
        #expect(isRunning(first[1]))
        let functions = running()
        service.signal(SIGKILL)
        service.reap()
        #expect(eventually(within: 15) { functions.allSatisfy { !isRunning($0) } })
    }

    /// A parent that dies before its new function is even loaded (multiwatch killed between
    /// forking a process and that process's start, as above when one was just replaced) leaves
    /// the function to a reaper: it stops rather than serve on, tied to the reaper's death.
    @Test func aFunctionWhoseParentDiedBeforeItWasLoadedStops() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = DataDirectory(path: "\(directory.path)/var")
        #expect(try FlashsaleCommand.run("init --data \"\(data.path)\"").status == 0)
        let pidFile = "\(directory.path)/pid"
        // spawn-fcgi hands its socket (fd 0) to sh, the leader of its process group, which
        // forks the function's process and exits: the process starts the function once orphaned.
        let spawner = try ChildProcess(
            executable: "/usr/bin/spawn-fcgi",
            arguments: [
                "-n", "-s", "\(directory.path)/time.sock", "--", "/bin/sh", "-c",
                "(sleep 1; exec \"$0\") & echo $! >\"$1\"", Paths.executable("flashsale-time"), pidFile,
            ],
            environment: ProcessInfo.processInfo.environment.merging([
                DataDirectory.environmentVariable: data.path, "FLASHSALE_LOG": data.functionLog,
            ]) { $1 })
        #expect(spawner.waitForExit(within: 20) == 0)
        let pid = try #require(
            (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap {
                pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines))
            })
        defer { kill(pid, SIGKILL) }
        #expect(eventually(within: 20) { !isRunning(pid) }, "\(pid): parent \(parent(of: pid) ?? 0)")
        let log = (try? String(contentsOfFile: data.functionLog, encoding: .utf8)) ?? ""
        #expect(!log.contains("critical") && !log.contains("crashed"), "\(log)")
    }
}

/// True while `pid` exists and is not a zombie.
private func isRunning(_ pid: pid_t) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
    return stat.split(separator: ")").last?.split(separator: " ").first != "Z"
}

/// The kernel function `pid` sleeps in.
private func wchan(_ pid: pid_t) -> String {
    (try? String(contentsOfFile: "/proc/\(pid)/wchan", encoding: .utf8)) ?? ""
}

/// True when `pid` waits in poll: a function's wait for its next connection.
private func isWaiting(_ pid: pid_t) -> Bool { wchan(pid).contains("poll") }

/// The parent of `pid`, from /proc.
private func parent(of pid: pid_t) -> pid_t? {
    (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))
        .flatMap { $0.split(separator: ")").last?.split(separator: " ").dropFirst().first }.flatMap { pid_t($0) }
}
