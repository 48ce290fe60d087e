import Foundation
import Hosting
import TestSupport
import Testing

/// The `flashsale` command as an operator meets it: its errors are one clear line and a
/// non-zero exit, and it leaves nothing running behind.
@Suite struct ServeCommandTests {
    /// Runs `flashsale ARGS`; its exit status and what it printed on stderr.
    func flashsale(_ arguments: String, environment: [String: String] = [:]) throws -> (Int32?, String) {
        let output = try TemporaryDirectory()
        defer { output.remove() }
        let status = try ChildProcessRunner.run(
            "exec \"\(Paths.executable("flashsale"))\" \(arguments) 2>\"\(output.path)/err\" >/dev/null",
            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
        return (status, (try? String(contentsOfFile: output.path + "/err", encoding: .utf8)) ?? "")
    }

    @Test func everySubcommandHasHelp() throws {
        for command in ["--help", "init --help", "serve --help"] {
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

    @Test func serveWithoutADataDirectorySaysRunInit() throws {
        let (status, message) = try flashsale(
            "serve --data /tmp/flashsale-missing-\(getpid()) --port \(try freePort())")
        #expect(status == 1)
        #expect(
            message
                == "flashsale: data directory /tmp/flashsale-missing-\(getpid()) does not exist: run `flashsale init` first\n"
        )
    }

    @Test func serveOnAPortInUseSaysSo() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        #expect(try flashsale("init --data \(directory.path)").0 == 0)
        let holder = try PortHolder()
        let (status, message) = try flashsale(
            "serve --data \(directory.path) --port \(holder.port) --root \(Paths.packageRoot)")
        #expect(status == 1)
        #expect(message == "flashsale: port \(holder.port) on 127.0.0.1 is already in use\n")
    }

    @Test func serveWithoutLighttpdNamesThePackage() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        #expect(try flashsale("init --data \(directory.path)").0 == 0)
        let (status, message) = try flashsale(
            "serve --data \(directory.path) --port \(try freePort()) --root \(Paths.packageRoot)",
            environment: ["FLASHSALE_LIGHTTPD": "/nonexistent/lighttpd"])
        #expect(status == 1)
        #expect(message.hasSuffix("apt-get install lighttpd\n"))
        #expect(message.split(separator: "\n").count == 1)
    }

    @Test func serveOnAnUnwritableDataDirectorySaysSo() throws {
        let directory = try TemporaryDirectory()
        defer {
            _ = try? ChildProcessRunner.run("chattr -i \(directory.path)")
            directory.remove()
        }
        #expect(try flashsale("init --data \(directory.path)").0 == 0)
        // Immutable stops even root from writing, which plain permissions would not.
        try #require(try ChildProcessRunner.run("chattr +i \(directory.path)") == 0)
        let (status, message) = try flashsale(
            "serve --data \(directory.path) --port \(try freePort()) --root \(Paths.packageRoot)")
        #expect(status == 1)
        #expect(message == "flashsale: data directory \(directory.path) is not writable by this user\n")
    }

    @Test func serveOutsideTheProjectSaysWhereFunctionsAreMissing() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        #expect(try flashsale("init --data \(directory.path)").0 == 0)
        let (status, message) = try flashsale(
            "serve --data \(directory.path) --port \(try freePort()) --root /nonexistent")
        #expect(status == 1)
        #expect(message.contains("no functions directory at /nonexistent/functions"))
    }

    @Test func whenLighttpdDiesServeStopsTheFunctionsAndFails() throws {
        let serve = try ServeProcess()
        let lighttpd = try #require(serve.lighttpdPID)
        #expect(!serve.functionPIDs("time").isEmpty)
        kill(lighttpd, SIGKILL)
        #expect(serve.process.waitForExit(within: 20) == 137)
        #expect(runningPIDs(executable: nil, dataDirectory: serve.data.path).isEmpty)
        #expect(serve.log.contains("lighttpd exited with status 137"))
    }
}

/// Holds a loopback TCP port in the listening state until released.
final class PortHolder {
    let port: Int
    private let fd: Int32

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 1) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit {
        close(fd)
    }
}
