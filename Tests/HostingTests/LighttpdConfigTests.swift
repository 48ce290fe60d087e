import Basics
import FastCGI
import Foundation
import Hosting
import TestSupport
import Testing

@Suite struct LighttpdConfigTests {
    func config(_ data: DataDirectory, manifests: [Manifest]? = nil) throws -> LighttpdConfig {
        LighttpdConfig(
            deployment: Deployment(
                data: data, staticDirectory: Paths.packageRoot + "/lighttpd/static", binDirectory: Paths.binDirectory,
                host: "127.0.0.1", port: 8080,
                manifests: try manifests ?? Manifest.loadAll(from: Paths.packageRoot + "/functions")),
            template: Paths.packageRoot + "/lighttpd/lighttpd.conf")
    }

    @Test func everyManifestBecomesAFastCGIBlock() throws {
        let text = try config(DataDirectory(path: "/srv/fs")).render()
        #expect(text.contains(#"include "\#(Paths.packageRoot)/lighttpd/lighttpd.conf""#))
        #expect(text.contains(#"var.data_dir = "/srv/fs""#))
        #expect(text.contains(#"var.port = 8080"#))
        for name in ["time", "noop"] {
            #expect(text.contains(#""/api/\#(name)" => (("#))
            #expect(text.contains(#""socket" => "/srv/fs/run/\#(name).sock""#))
            #expect(text.contains(#""bin-path" => "\#(Paths.binDirectory)/flashsale-\#(name)""#))
        }
        #expect(text.contains(#""check-local" => "disable""#))
        #expect(text.contains(#""FLASHSALE_DATA" => "/srv/fs""#))
        #expect(text.contains(#""FLASHSALE_MAX_BODY_BYTES" => "1024""#))
        #expect(text.contains(#""FLASHSALE_LOG" => "/srv/fs/log/functions.log""#))
        #expect(text.contains(#""max-procs" => 2"#))
        // A process that crashed is back in its pool at lighttpd's next tick, not 1–2 s later.
        #expect(text.contains(#""disable-time" => 0"#))
    }

    @Test func quotesAreEscapedTheWayLighttpdReadsThem() throws {
        var manifest = try #require(try Manifest.loadAll(from: Paths.packageRoot + "/functions").first)
        manifest.environment = ["GREETING": #"say "hi""#]
        let text = try config(DataDirectory(path: "/srv/fs"), manifests: [manifest]).render()
        #expect(text.contains(#""GREETING" => "say \"hi\"""#))
    }

    /// lighttpd has no escape for a backslash: a value holding one cannot be written.
    @Test(arguments: [#"C:\path"#, "trailing\\", "line\nbreak", "tab\there"])
    func valuesLighttpdCannotCarryAreRefused(_ value: String) throws {
        #expect(!ConfigString.canQuote(value))
        var manifest = try #require(try Manifest.loadAll(from: Paths.packageRoot + "/functions").first)
        manifest.environment = ["GREETING": value]
        #expect(throws: HostingError.self) {
            try config(DataDirectory(path: "/srv/fs"), manifests: [manifest]).render()
        }
        #expect(throws: HostingError.self) { try config(DataDirectory(path: "/srv/f\\s")).render() }
    }

    @Test func anIPv6HostIsBracketed() throws {
        var ipv6 = try config(DataDirectory(path: "/srv/fs"))
        ipv6.deployment.host = "::1"
        #expect(ipv6.deployment.bracketedHost == "[::1]")
        #expect(try ipv6.render().contains(#"var.bind = "[::1]""#))
    }

    @Test func aSocketPathTooLongForUnixSocketsIsRefused() throws {
        let long = "/tmp/" + String(repeating: "d", count: 100)
        #expect(throws: HostingError.self) { try config(DataDirectory(path: long)).render() }
    }

    /// lighttpd only warns about a key it does not know (and then ignores it), so the check
    /// also reads what it printed.
    @Test func theGeneratedConfigPassesLighttpdsOwnCheckWithoutWarnings() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let data = DataDirectory(path: temporary.path)
        try data.initialize()
        try config(data).write()
        let lighttpd = try Server.findLighttpd(environment: ProcessInfo.processInfo.environment)
        let output = temporary.path + "/check.txt"
        #expect(
            try ChildProcessRunner.run("exec \"\(lighttpd)\" -tt -f \"\(data.lighttpdConfig)\" >\"\(output)\" 2>&1")
                == 0)
        let printed = try String(contentsOfFile: output, encoding: .utf8)
        #expect(!printed.localizedCaseInsensitiveContains("warning"), "\(printed)")
    }

    @Test func errorPagesAreJSONErrorsForEveryStatusLighttpdProduces() throws {
        let pages = Deployment.errorPages()
        #expect(Set(pages.map(\.status)).isSuperset(of: [400, 404, 413, 431, 500, 502, 503]))
        for page in pages {
            let body = try JSONDecoder().decode(ErrorBody.self, from: Data(page.body))
            #expect(!body.error.message.isEmpty)
        }
        let codes = Dictionary(
            uniqueKeysWithValues: try pages.map {
                ($0.status, try JSONDecoder().decode(ErrorBody.self, from: Data($0.body)).error.code)
            })
        #expect(codes[404] == .notFound)
        #expect(codes[413] == .payloadTooLarge)
        #expect(codes[431] == .badRequest)
        #expect(codes[503] == .busy)
    }

    @Test func lighttpdIsFoundOrNamedWithItsPackage() throws {
        #expect(
            throws: HostingError(
                "lighttpd is not installed (looked for /nonexistent/lighttpd): apt-get install lighttpd")
        ) {
            try Server.findLighttpd(environment: ["FLASHSALE_LIGHTTPD": "/nonexistent/lighttpd"])
        }
        #expect(try Server.findLighttpd(environment: [:]).hasSuffix("/lighttpd"))
    }
}
