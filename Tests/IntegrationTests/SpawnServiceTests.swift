import Foundation
import Hosting
import TestSupport
import Testing

/// A function run as its own service by the script `flashsale config spawn` writes.
@Suite struct SpawnServiceTests {
    /// Stopping the service (SIGTERM to multiwatch, as systemd does) ends every process of the
    /// function cleanly: none is taken for a crash, none is started again, none is left.
    @Test func aStoppedServiceEndsEveryProcessCleanly() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = DataDirectory(path: directory.path + "/var")
        #expect(try FlashsaleCommand.run("init --data \"\(data.path)\"").status == 0)
        let written = try FlashsaleCommand.run(
            "config spawn --data \"\(data.path)\" --root \"\(Paths.packageRoot)\" --only time")
        #expect(written.status == 0, "\(written.stderr)")
        let service = try ChildProcess(executable: data.path + "/spawn/time.sh", arguments: [])
        defer {
            service.signalGroup(SIGKILL)
            service.reap()
        }
        let executable = Paths.executable("flashsale-time")
        #expect(eventually(within: 20) { runningPIDs(executable: executable, dataDirectory: data.path).count == 2 })

        service.signal(SIGTERM)
        #expect(service.waitForExit(within: 20) == 0)
        #expect(runningPIDs(executable: executable, dataDirectory: data.path).isEmpty)
        let log = (try? String(contentsOfFile: data.functionLog, encoding: .utf8)) ?? ""
        #expect(!log.contains("crashed"), "\(log)")
    }
}
