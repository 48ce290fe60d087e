import Foundation
import Hosting
import TestSupport
import Testing

/// The `flashsale` command as an operator meets it: its errors are one clear line and a
/// non-zero exit, and it leaves nothing running behind.
@Suite struct ServeCommandTests {
    /// Runs `flashsale ARGS`; its exit status and what it printed on stderr.
    func flashsale(_ arguments: String, environment: [String: String] = [:]) throws -> (Int32?, String) {
        let result = try FlashsaleCommand.run(arguments, environment: environment)
        return (result.status, result.stderr)
    }

    @Test func everySubcommandHasHelp() throws {
        for command in [
            "--help", "init --help", "serve --help", "sale --help", "sale create --help", "sale list --help",
            "sale show --help", "orders --help", "reconcile --help", "config systemd --help",
        ] {
            let (status, _) = try flashsale(command)
            #expect(status == 0, "flashsale \(command)")
        }
    }

    @Test func initTwiceIsSafe() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        #expect(try flashsale("init --data \(directory.path)/var").0 == 0)
        let key = try String(contentsOfFile: directory.path + "/var/secret.key", encoding: .utf8)
        #expect(try flashsale("init", environment: ["FLASHSALE_DATA": directory.path + "/var"]).0 == 0)
        #expect(try String(contentsOfFile: directory.path + "/var/secret.key", encoding: .utf8) == key)
    }

    @Test func initsRacingOnOneDirectoryLeaveOneWholeKey() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let inits = try (0..<4).map { _ in
            try ChildProcess(executable: Paths.executable("flashsale"), arguments: ["init", "--data", directory.path])
        }
        defer {
            for process in inits {
                process.signal(SIGKILL)
                process.reap()
            }
        }
        #expect(inits.map { $0.waitForExit(within: 30) } == [0, 0, 0, 0])
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(files.filter { $0.hasPrefix("secret") } == ["secret.key"])
        let key = try String(contentsOfFile: directory.path + "/secret.key", encoding: .utf8)
        #expect(key.range(of: "^[0-9a-f]{64}\n$", options: .regularExpression) != nil)
    }

    @Test func serveWithoutADataDirectorySaysRunInit() throws {
        let (status, message) = try flashsale(
            "serve --data /tmp/flashsale-missing-\(getpid()) --port \(try freePort())")
        #expect(status == 1)
        #expect(
            message
                == "flashsale: data directory /tmp/flashsale-missing-\(getpid()) does not exist: run `flashsale init` first\n"
        )
    }

    /// A temporary directory on which `flashsale init` has run; the caller removes it.
    func initializedDirectory() throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        #expect(try flashsale("init --data \(directory.path)").0 == 0)
        return directory
    }

    /// `flashsale serve` on `data`, from the project (or `root`), on a free port (or `port`).
    func serve(
        _ data: TemporaryDirectory, port: Int? = nil, root: String = Paths.packageRoot,
        environment: [String: String] = [:]
    ) throws -> (Int32?, String) {
        let port = try port ?? freePort()
        return try flashsale("serve --data \(data.path) --port \(port) --root \(root)", environment: environment)
    }

    @Test func serveOnAPortInUseSaysSo() throws {
        let directory = try initializedDirectory()
        defer { directory.remove() }
        let holder = try PortHolder()
        let (status, message) = try serve(directory, port: holder.port)
        #expect(status == 1)
        #expect(message == "flashsale: port \(holder.port) on 127.0.0.1 is already in use\n")
    }

    @Test func serveWithoutLighttpdNamesThePackage() throws {
        let directory = try initializedDirectory()
        defer { directory.remove() }
        let (status, message) = try serve(directory, environment: ["FLASHSALE_LIGHTTPD": "/nonexistent/lighttpd"])
        #expect(status == 1)
        #expect(message.hasSuffix("apt-get install lighttpd\n"))
        #expect(message.split(separator: "\n").count == 1)
    }

    @Test func serveOnAnUnwritableDataDirectorySaysSo() throws {
        let directory = try initializedDirectory()
        // Root ignores permission bits, but not the immutable attribute.
        let (lock, unlock) = geteuid() == 0 ? ("chattr +i", "chattr -i") : ("chmod 0500", "chmod 0700")
        defer {
            _ = try? ChildProcessRunner.run("\(unlock) \(directory.path)")
            directory.remove()
        }
        try #require(try ChildProcessRunner.run("\(lock) \(directory.path)") == 0)
        let (status, message) = try serve(directory)
        #expect(status == 1)
        #expect(message == "flashsale: data directory \(directory.path) is not writable by this user\n")
    }

    @Test func serveOutsideTheProjectSaysWhereFunctionsAreMissing() throws {
        let directory = try initializedDirectory()
        defer { directory.remove() }
        let (status, message) = try serve(directory, root: "/nonexistent")
        #expect(status == 1)
        #expect(message.contains("no functions directory at /nonexistent/functions"))
    }

    @Test func serveTakesABinFolderRelativeToTheCurrentDirectory() throws {
        let bin = URL(fileURLWithPath: Paths.binDirectory)
        let serve = try ServeProcess(bin: bin.lastPathComponent, workingDirectory: bin.deletingLastPathComponent().path)
        #expect(try HTTPClient.request(port: serve.port, target: "/api/noop").status == 200)
        #expect(serve.stop() == 0)
    }

    @Test func configSystemdWritesAUnitThatRunsThisServe() throws {
        let directory = try initializedDirectory()
        defer { directory.remove() }
        let result = try FlashsaleCommand.run("config systemd --data \(directory.path) --root \(Paths.packageRoot)")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("flashsale: wrote \(directory.path)/flashsale-serve.service\n"))
        let unit = try String(contentsOfFile: directory.path + "/flashsale-serve.service", encoding: .utf8)
        #expect(
            unit.contains("ExecStart=\"\(Paths.executable("flashsale"))\" \"serve\" \"--data\" \"\(directory.path)\""))
        #expect(unit.contains("Restart=always\n"))
    }
}
