import Basics
import Foundation
import Hosting
import TestSupport
import Testing

/// Every host's configuration gives a request a deadline to arrive and (but Apache, which
/// cannot) caps one client address's connections, sparing a trusted proxy; each still passes
/// the host's own check.
@Suite struct ConnectionLimitsConfigTests {
    let service = FileOwner(uid: 65534, gid: 65534)

    /// The project's functions on an initialised data directory in `directory`, with these
    /// limits and the token manifest trusting `proxies`.
    func deployment(
        in directory: TemporaryDirectory, limits: ConnectionLimits = ConnectionLimits(), proxies: String? = nil
    ) throws -> Deployment {
        let data = DataDirectory(path: directory.path + "/var")
        try data.initialize()
        try FileManager.default.createDirectory(atPath: data.site, withIntermediateDirectories: true)
        let manifests = try Manifest.loadAll(from: Paths.packageRoot + "/functions").map {
            var manifest = $0
            if manifest.name == "token", let proxies { manifest.environment["FLASHSALE_TRUSTED_PROXIES"] = proxies }
            return manifest
        }
        return Deployment(
            data: data, staticDirectory: data.site, binDirectory: Paths.binDirectory, host: "127.0.0.1", port: 8080,
            manifests: manifests, connections: limits)
    }

    /// Runs a host's check on `file`; its exit status and what it printed.
    func check(_ commandLine: String, in directory: TemporaryDirectory) throws -> (status: Int32?, printed: String) {
        let output = directory.path + "/check.txt"
        let status = try ChildProcessRunner.run("\(commandLine) >\"\(output)\" 2>&1")
        return (status, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }

    @Test func trustedProxiesAreReadFromEveryManifestInOneSpelling() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let proxied = try deployment(
            in: directory, proxies: " 10.0.0.9, 2001:DB8:0::1 ,::ffff:10.0.0.9,203.0.113.5:443,[2001:db8::2]:443")
        #expect(proxied.trustedProxies.map(\.description) == ["10.0.0.9", "2001:db8::1", "2001:db8::2", "203.0.113.5"])
        #expect(try deployment(in: directory).trustedProxies.isEmpty)
    }

    @Test(arguments: [nil, "10.0.0.9,2001:db8::1"])
    func nginxCapsAddressesAndTimesRequestsOut(_ proxies: String?) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let limits = ConnectionLimits(perAddress: 96, readSeconds: 7)
        let file = directory.path + "/nginx.conf"
        try NginxConfig(deployment: try deployment(in: directory, limits: limits, proxies: proxies), owner: service)
            .write(to: file)
        let checked = try check("/usr/sbin/nginx -t -c \"\(file)\"", in: directory)
        #expect(checked.status == 0 && checked.printed.contains("test is successful"), "\(checked.printed)")
        let text = try String(contentsOfFile: file, encoding: .utf8)
        for line in [
            "client_header_timeout 7s;", "client_body_timeout 7s;", "send_timeout 7s;",
            "reset_timedout_connection on;", "limit_conn flashsale_addresses 96;",
        ] {
            #expect(text.contains(line), "\(line)")
        }
        if proxies == nil {
            #expect(text.contains("limit_conn_zone $flashsale_subscriber zone=flashsale_addresses:10m;"))
            #expect(!text.contains("geo "))
        } else {
            #expect(text.contains("    10.0.0.9 1;\n    2001:db8::1 1;"))
            #expect(text.contains("    0 $flashsale_subscriber;"))
            #expect(text.contains("limit_conn_zone $flashsale_capped_address zone=flashsale_addresses:10m;"))
        }
    }

    @Test func apacheTimesRequestsOut() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = directory.path + "/apache.conf"
        let limits = ConnectionLimits(perAddress: 128, readSeconds: 8)
        try ApacheConfig(deployment: try deployment(in: directory, limits: limits), owner: service).write(to: file)
        let checked = try check("/usr/sbin/apachectl -t -f \"\(file)\"", in: directory)
        #expect(checked.status == 0 && checked.printed.contains("Syntax OK"), "\(checked.printed)")
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains("LoadModule reqtimeout_module \"/usr/lib/apache2/modules/mod_reqtimeout.so\""))
        #expect(text.contains("RequestReadTimeout header=8-16,MinRate=500 body=8-16,MinRate=500"))
    }

    /// With the cap off (a CDN in front that limits its own clients) no host counts addresses;
    /// the deadline stays.
    @Test func theCapOffLeavesOnlyTheDeadline() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let off = try deployment(in: directory, limits: ConnectionLimits(perAddress: 0))
        let apache = try ApacheConfig(deployment: off, owner: service).render()
        #expect(apache.contains("RequestReadTimeout header=10-20"))
        let nginx = try NginxConfig(deployment: off, owner: service).render()
        #expect(!nginx.contains("limit_conn") && nginx.contains("client_header_timeout 10s;"))
        let lighttpd = try LighttpdConfig(deployment: off, template: Paths.packageRoot + "/lighttpd/lighttpd.conf")
            .render()
        #expect(lighttpd.contains("server.max-read-idle = 10\n") && lighttpd.contains("no per-address cap (off)"))
    }

    @Test func lighttpdReadsItsTimeoutAndPassesItsOwnCheck() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let limits = ConnectionLimits(perAddress: 64, readSeconds: 12)
        let config = LighttpdConfig(
            deployment: try deployment(in: directory, limits: limits),
            template: Paths.packageRoot + "/lighttpd/lighttpd.conf")
        let file = directory.path + "/lighttpd.conf"
        try config.write(to: file)
        let checked = try check("/usr/sbin/lighttpd -tt -f \"\(file)\"", in: directory)
        #expect(checked.status == 0, "\(checked.printed)")
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains("server.max-read-idle = 12\n") && text.contains("over 64 per address"))
        #expect(text.contains("server.max-write-idle = 12\n"))
    }
}
