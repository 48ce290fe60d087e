import Basics
import Foundation
import Hosting
import TestSupport
import Testing

/// Apache's, nginx's and spawn-fcgi's configurations, checked by each tool itself (apachectl -t, nginx -t,
/// sh -n, systemd-analyze verify).
@Suite struct HostConfigTests {
    /// A deployment of the project's functions on an initialised data directory, `order`
    /// balanced over two remote backends when `remote` is set.
    func deployment(_ data: DataDirectory, remote: Bool = false) throws -> Deployment {
        let manifests = try Manifest.loadAll(from: Paths.packageRoot + "/functions").filter { !$0.isDemoOnly }.map {
            var manifest = $0
            if remote && manifest.name == "order" {
                manifest.backends = [try Backend("10.0.0.2:9000"), try Backend("[fd00::3]:9000")]
            }
            return manifest
        }
        return Deployment(
            data: data, staticDirectory: data.site, binDirectory: Paths.binDirectory, host: "127.0.0.1", port: 8080,
            manifests: manifests)
    }

    let service = FileOwner(uid: 65534, gid: 65534)

    /// A data directory in `directory`, initialised, with the (empty) site a server's check
    /// expects to find.
    func initialised(_ directory: TemporaryDirectory) throws -> DataDirectory {
        let data = DataDirectory(path: directory.path + "/var")
        try data.initialize()
        try FileManager.default.createDirectory(atPath: data.site, withIntermediateDirectories: true)
        return data
    }

    /// Runs a command line; its exit status and everything it printed.
    func check(_ commandLine: String, in directory: TemporaryDirectory) throws -> (status: Int32?, printed: String) {
        let output = directory.path + "/check.txt"
        let status = try ChildProcessRunner.run("\(commandLine) >\"\(output)\" 2>&1")
        return (status, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }

    @Test(arguments: [false, true])
    func apachesOwnCheckPassesWithAndWithoutRemoteBackends(_ remote: Bool) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try initialised(directory)
        let file = directory.path + "/apache.conf"
        try ApacheConfig(deployment: try deployment(data, remote: remote), owner: service).write(to: file)
        let checked = try check("/usr/sbin/apachectl -t -f \"\(file)\"", in: directory)
        #expect(checked.status == 0 && checked.printed.contains("Syntax OK"), "\(checked.printed)")
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(
            text.contains("FcgidCmdOptions \"\(Paths.binDirectory)/flashsale-token\" MaxProcesses 4 MinProcesses 1"))
        #expect(text.contains("InitialEnv \"FLASHSALE_DATA=\(data.path)\""))
        #expect(text.contains("User #65534"))
        #expect(text.contains("BalancerMember \"fcgi://[fd00::3]:9000\"") == remote)
        #expect(text.contains("FcgidWrapper \"\(Paths.binDirectory)/flashsale-order\"") == !remote)
        #expect(FileManager.default.fileExists(atPath: data.errorPages + "/413.html"))
    }

    @Test func apachesOwnCheckPassesWithFunctionsRunApart() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try initialised(directory)
        let file = directory.path + "/apache.conf"
        try ApacheConfig(deployment: try deployment(data), functions: .spawned, owner: service).write(to: file)
        let checked = try check("/usr/sbin/apachectl -t -f \"\(file)\"", in: directory)
        #expect(checked.status == 0 && checked.printed.contains("Syntax OK"), "\(checked.printed)")
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains("ProxyPass \"unix:\(data.sockets)/order.spawn.sock|fcgi://flashsale-order/\""))
        #expect(text.contains("ProxyPass \"unix:\(data.sockets)/time.spawn.sock|fcgi://flashsale-time\""))
        #expect(!text.contains("FcgidWrapper"))
    }

    @Test func neitherApacheNorNginxIsAskedToRunAsRoot() throws {
        let data = DataDirectory(path: "/srv/flashsale")
        let root = FileOwner(uid: 0, gid: 0)
        #expect {
            try ApacheConfig(deployment: try deployment(data), owner: root).render()
        } throws: { "\($0)".contains("chown -R www-data: /srv/flashsale") }
        #expect {
            try NginxConfig(deployment: try deployment(data), owner: root).render()
        } throws: { "\($0)".contains("chown -R www-data: /srv/flashsale") }
    }

    /// An IPv6 address listens in brackets, and is not taken for a server name with a port.
    @Test func anIPv6HostPassesApachesAndNginxsChecks() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try initialised(directory)
        var ipv6 = try deployment(data)
        ipv6.host = "::1"
        try ApacheConfig(deployment: ipv6, owner: service).write(to: directory.path + "/apache.conf")
        let apache = try check("/usr/sbin/apachectl -t -f \"\(directory.path)/apache.conf\"", in: directory)
        #expect(apache.status == 0, "\(apache.printed)")
        try NginxConfig(deployment: ipv6, owner: service).write(to: directory.path + "/nginx.conf")
        let nginx = try check("/usr/sbin/nginx -t -c \"\(directory.path)/nginx.conf\"", in: directory)
        #expect(nginx.status == 0, "\(nginx.printed)")
        #expect(
            try String(contentsOfFile: directory.path + "/nginx.conf", encoding: .utf8).contains("listen [::1]:8080;"))
    }

    @Test(arguments: [false, true])
    func nginxsOwnCheckPassesWithAndWithoutRemoteBackends(_ remote: Bool) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try initialised(directory)
        let file = directory.path + "/nginx.conf"
        try NginxConfig(deployment: try deployment(data, remote: remote), owner: service).write(to: file)
        let checked = try check("/usr/sbin/nginx -t -c \"\(file)\"", in: directory)
        #expect(checked.status == 0 && checked.printed.contains("test is successful"), "\(checked.printed)")
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains("server \"unix:\(data.sockets)/token.spawn.sock\";"))
        #expect(text.contains("server [fd00::3]:9000;") == remote)
        #expect(text.contains("client_max_body_size 65536;"))
    }

    @Test func valuesAServerWouldExpandAreRefused() throws {
        let dollar = DataDirectory(path: "/srv/$flash")
        #expect(throws: HostingError.self) {
            try NginxConfig(deployment: try deployment(dollar), owner: service).render()
        }
        let braces = DataDirectory(path: "/srv/${flash}")
        #expect(throws: HostingError.self) {
            try ApacheConfig(deployment: try deployment(braces), owner: service).render()
        }
    }

    /// The scripts parse as sh and run the manifest's process count on the right socket; the
    /// units pass systemd's own check without a warning.
    @Test func spawnScriptsAndUnitsPassShAndSystemdChecks() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = DataDirectory(path: directory.path + "/it's data")
        try data.initialize()
        let spawn = SpawnConfig(
            deployment: try deployment(data), directory: directory.path + "/spawn",
            listen: ["order": try Backend("127.0.0.1:9100")], owner: service)
        try spawn.write()
        for name in ["order", "token", "time"] {
            let script = "\(directory.path)/spawn/\(name).sh"
            #expect(try check("sh -n \"\(script)\"", in: directory).status == 0)
            let unit = "\(directory.path)/spawn/flashsale-\(name).service"
            let verified = try check("systemd-analyze verify \"\(unit)\"", in: directory)
            #expect(verified.status == 0 && verified.printed.isEmpty, "\(verified.printed)")
        }
        let order = try String(contentsOfFile: directory.path + "/spawn/order.sh", encoding: .utf8)
        #expect(order.contains("'-a' '127.0.0.1' '-p' '9100'") && order.contains("'-f' '4'"))
        #expect(order.contains("export FLASHSALE_PROCESSES_PER_SOCKET='4'"))
        #expect(order.contains(#"export FLASHSALE_DATA='\#(directory.path)/it'\''s data'"#))
        let time = try String(contentsOfFile: directory.path + "/spawn/time.sh", encoding: .utf8)
        #expect(
            time.contains("'-s' '\(directory.path)/it'\\''s data/run/time.spawn.sock'") && time.contains("'-f' '2'"))
        #expect(
            try String(contentsOfFile: directory.path + "/spawn/flashsale-time.service", encoding: .utf8).contains(
                "User=65534"))
    }

    /// serve's own unit passes systemd's check, restarts serve whatever its exit, and runs it
    /// as the data directory's owner, allowed port 80 then.
    @Test(arguments: [8080, 80])
    func serveUnitPassesSystemdsCheck(_ port: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var served = try deployment(try initialised(directory))
        served.port = port
        let file = "\(directory.path)/\(ServeUnit.fileName)"
        let unit = ServeUnit(
            deployment: served, root: Paths.packageRoot, flashsale: Paths.executable("flashsale"), owner: service)
        try Data(try unit.render().utf8).write(to: URL(fileURLWithPath: file))
        let verified = try check("systemd-analyze verify \"\(file)\"", in: directory)
        #expect(verified.status == 0 && verified.printed.isEmpty, "\(verified.printed)")
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(
            text.contains(
                "ExecStart=\"\(Paths.executable("flashsale"))\" \"serve\" \"--data\" \"\(served.data.path)\" \"--host\" \"127.0.0.1\" \"--port\" \"\(port)\""
            ))
        #expect(text.contains("Restart=always\n") && text.contains("StartLimitIntervalSec=0\n"))
        #expect(text.contains("KillMode=mixed\n") && text.contains("User=65534\n"))
        #expect(text.contains("AmbientCapabilities=CAP_NET_BIND_SERVICE") == (port < 1024))
    }

    /// Function processes report a crash cheaply unless their manifest asks for the full report.
    @Test func functionsGetTheCheapCrashReportUnlessTheirManifestSetsOne() throws {
        var hosted = try deployment(DataDirectory(path: "/srv/fs"))
        hosted.manifests[0].environment["SWIFT_BACKTRACE"] = "enable=yes"
        let first = hosted.manifests[0]
        #expect(hosted.environment(of: first)["SWIFT_BACKTRACE"] == "enable=yes")
        for manifest in hosted.manifests.dropFirst() {
            #expect(hosted.environment(of: manifest)["SWIFT_BACKTRACE"] == Deployment.crashReport)
        }
        #expect(Deployment.crashReport.contains("symbolicate=off"))
    }

    @Test func spawnRefusesToListenForAFunctionItDoesNotWrite() throws {
        let spawn = SpawnConfig(
            deployment: try deployment(DataDirectory(path: "/srv/fs")), directory: "/srv/fs/spawn",
            listen: ["nope": try Backend("127.0.0.1:9100")], owner: service)
        #expect(throws: HostingError("--listen names nope, which is not among the functions written")) {
            try spawn.files()
        }
    }

    @Test func lighttpdBalancesAFunctionOverItsRemoteBackends() throws {
        let text = try LighttpdConfig(
            deployment: try deployment(DataDirectory(path: "/srv/fs"), remote: true),
            template: Paths.packageRoot + "/lighttpd/lighttpd.conf"
        ).render()
        #expect(text.contains(#"( "host" => "10.0.0.2", "port" => 9000, "check-local" => "disable" ),"#))
        #expect(text.contains(#"( "host" => "fd00::3", "port" => 9000, "check-local" => "disable" ),"#))
        #expect(!text.contains("flashsale-order\""))
        #expect(text.contains("flashsale-token\""))
    }

    @Test(arguments: ["10.0.0.2:9000", "[fd00::3]:80", "fn-1.internal:65535"])
    func backendsParse(_ text: String) throws {
        #expect(try Backend(text).description == text)
    }

    @Test(arguments: ["host", ":9000", "h:0", "h:65536", "[zz]:1", "a b:1", "[::1]", "::1:9000", "h:x"])
    func badBackendsAreRefused(_ text: String) {
        #expect(throws: HostingError.self) { try Backend(text) }
    }
}
