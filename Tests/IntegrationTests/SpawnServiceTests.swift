import Basics
import Foundation
import Hosting
import TestSupport
import Testing

/// A function run as its own service by the script `flashsale config spawn` writes.
@Suite struct SpawnServiceTests {
    /// Stopping the service (SIGTERM to multiwatch, as systemd does) ends every process of the
    /// function cleanly: none is taken for a crash, none is started again, none is left.
    @Test func aStoppedServiceEndsEveryProcessCleanly() throws {
        let spawned = try SpawnedTime()
        defer { spawned.remove() }
        let (data, service) = (spawned.data, spawned.service)
        #expect(eventually(within: 20) { spawned.running().count == 2 })

        service.signal(SIGTERM)
        #expect(service.waitForExit(within: 20) == 0)
        #expect(spawned.running().isEmpty)
        let log = (try? String(contentsOfFile: data.functionLog, encoding: .utf8)) ?? ""
        #expect(!log.contains("crashed"), "\(log)")
    }
}

/// `flashsale config spawn --only time` in a fresh data directory, and its script running:
/// multiwatch and two `flashsale-time` processes on one socket. `remove()` kills the script's
/// group and removes the directory.
final class SpawnedTime {
    let directory: TemporaryDirectory
    let data: DataDirectory
    let service: ChildProcess

    init() throws {
        directory = try TemporaryDirectory()
        data = DataDirectory(path: directory.path + "/var")
        #expect(try FlashsaleCommand.run("init --data \"\(data.path)\"").status == 0)
        let written = try FlashsaleCommand.run(
            "config spawn --data \"\(data.path)\" --root \"\(Paths.packageRoot)\" --only time")
        #expect(written.status == 0, "\(written.stderr)")
        service = try ChildProcess(executable: data.path + "/spawn/time.sh", arguments: [])
    }

    /// The running `flashsale-time` processes of this data directory.
    func running() -> [pid_t] {
        runningPIDs(executable: Paths.executable("flashsale-time"), dataDirectory: data.path)
    }

    func remove() {
        service.signalGroup(SIGKILL)
        service.reap()
        directory.remove()
    }
}
