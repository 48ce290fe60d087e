import Foundation
import Hosting
import TestSupport
import Testing

/// `flashsale config` as an operator runs it: what it writes and prints, and a clear error
/// with nothing written for each mistake.
@Suite struct ConfigCommandTests {
    static let root = "--root \"\(Paths.packageRoot)\""

    @Test func eachHostsConfigurationIsWrittenWithHowToCheckAndRunIt() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = directory.path + "/var"
        #expect(try FlashsaleCommand.run("init --data \"\(data)\"").status == 0)
        // nginx's workers run as the data directory's owner, which must not be root.
        if getuid() == 0 { #expect(try ChildProcessRunner.run("chown -R 65534:65534 \"\(data)\"") == 0) }
        for (host, check) in [("nginx", "nginx -t -c"), ("lighttpd", "lighttpd -tt -f")] {
            let written = try FlashsaleCommand.run("config \(host) --data \"\(data)\" \(Self.root) --port 9090")
            #expect(written.status == 0, "\(written.stderr)")
            #expect(written.stdout.contains("wrote \(data)/\(host).conf") && written.stdout.contains(check))
            #expect(try String(contentsOfFile: "\(data)/\(host).conf", encoding: .utf8).contains("9090"))
        }
        #expect(FileManager.default.fileExists(atPath: data + "/site/index.html"), "the storefront is published")
        let spawn = try FlashsaleCommand.run(
            "config spawn --data \"\(data)\" \(Self.root) --only order --only time --listen order=127.0.0.1:9100 --out \"\(directory.path)/units\""
        )
        #expect(spawn.status == 0, "\(spawn.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path + "/units").sorted()
        #expect(files == ["flashsale-order.service", "flashsale-time.service", "order.sh", "time.sh"])
    }

    @Test(arguments: [
        ("config spawn --listen order", "--listen wants NAME=HOST:PORT"),
        ("config spawn --listen order=nowhere", "backend \"nowhere\" must be host:port"),
        ("config spawn --listen nope=127.0.0.1:9000", "--listen names nope"),
        ("config spawn --only nope", "--only nope: no such function"),
        ("config nginx --port 70000", "--port 70000 is not a TCP port"),
        ("config apache --host [::1]", "--host [::1] is not an IP address"),
    ])
    func mistakesAreOneLineAndWriteNothing(_ command: String, message: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = directory.path + "/var"
        #expect(try FlashsaleCommand.run("init --data \"\(data)\"").status == 0)
        let before = try FileManager.default.contentsOfDirectory(atPath: data).sorted()
        let result = try FlashsaleCommand.run("\(command) --data \"\(data)\" \(Self.root)")
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        let after = try FileManager.default.contentsOfDirectory(atPath: data).sorted()
        #expect(after == before, "\(after)")
    }

    @Test func aDataDirectoryThatWasNeverInitialisedIsNamed() throws {
        let result = try FlashsaleCommand.run("config apache --data /nonexistent/flashsale \(Self.root)")
        #expect(result.status == 1)
        #expect(
            result.stderr
                == "flashsale: data directory /nonexistent/flashsale does not exist: run `flashsale init` first\n")
    }
}
