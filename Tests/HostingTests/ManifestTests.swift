import Foundation
import Hosting
import TestSupport
import Testing

@Suite struct ManifestTests {
    @Test func theProjectsFunctionsLoad() throws {
        let manifests = try Manifest.loadAll(from: Paths.packageRoot + "/functions")
        #expect(
            manifests.map(\.name) == ["captcha", "guest", "noop", "order", "precheck", "sale-flag", "time", "token"])
        #expect(manifests.filter(\.isDemoOnly).map(\.name) == ["guest"])
        let time = try #require(manifests.first { $0.name == "time" })
        #expect(time.route == "/api/time")
        #expect(time.executableName == "flashsale-time")
        #expect(time.processes.max >= time.processes.min)
        for manifest in manifests {
            #expect(FileManager.default.isExecutableFile(atPath: Paths.executable(manifest.executableName)))
        }
    }

    func manifest(_ json: String, name: String = "demo") throws -> Manifest {
        let directory = try TemporaryDirectory("manifest")
        defer { directory.remove() }
        let file = directory.path + "/function.json"
        try json.write(toFile: file, atomically: true, encoding: .utf8)
        return try Manifest.load(name: name, from: file)
    }

    let valid = #"{"route":"/api/demo","processes":{"min":1,"max":4},"maxBodyBytes":512,"environment":{"A_B":"c"}}"#

    @Test func aValidManifestLoads() throws {
        let loaded = try manifest(valid)
        #expect(loaded.name == "demo")
        #expect(loaded.processes.max == 4)
        #expect(loaded.maxBodyBytes == 512)
        #expect(loaded.environment == ["A_B": "c"])
    }

    @Test(arguments: [
        (#"{"route":"api/demo","processes":{"min":1,"max":1},"maxBodyBytes":0,"environment":{}}"#, "route"),
        (#"{"route":"/api/de mo","processes":{"min":1,"max":1},"maxBodyBytes":0,"environment":{}}"#, "route"),
        (#"{"route":"/api/\"x","processes":{"min":1,"max":1},"maxBodyBytes":0,"environment":{}}"#, "route"),
        (#"{"route":"/api/demo","processes":{"min":2,"max":1},"maxBodyBytes":0,"environment":{}}"#, "processes"),
        (#"{"route":"/api/demo","processes":{"min":0,"max":0},"maxBodyBytes":0,"environment":{}}"#, "processes"),
        (#"{"route":"/api/demo","processes":{"min":1,"max":1},"maxBodyBytes":-1,"environment":{}}"#, "maxBodyBytes"),
        (#"{"route":"/api/demo","processes":{"min":1,"max":1},"maxBodyBytes":65537,"environment":{}}"#, "maxBodyBytes"),
        (
            #"{"route":"/api/demo","processes":{"min":1,"max":1},"maxBodyBytes":0,"environment":{"A":"x\\y"}}"#,
            "backslash"
        ),
        (
            #"{"route":"/api/demo","processes":{"min":1,"max":1},"maxBodyBytes":0,"environment":{"a b":"c"}}"#,
            "environment"
        ),
        (#"{"route":"/api/demo","processes":{"min":1,"max":1},"maxBodyBytes":0}"#, "not a valid manifest"),
        (
            #"{"route":"/api/demo","processes":{"min":1,"max":1},"maxBodyBytes":0,"environment":{},"backends":[]}"#,
            "backends"
        ),
        (
            #"{"route":"/a","processes":{"min":1,"max":1},"maxBodyBytes":0,"environment":{},"backends":["h"]}"#,
            "backend \"h\""
        ),
        (
            #"{"route":"/a","processes":{"min":1,"max":1},"maxBodyBytes":0,"environment":{},"backends":["h:1","h:1"]}"#,
            "backends"
        ),
        (#"{"route":"/api/demo""#, "not a valid manifest"),
    ])
    func badManifestsAreRefusedNamingTheField(_ json: String, field: String) {
        #expect {
            try manifest(json)
        } throws: { error in
            "\(error)".contains(field) && "\(error)".contains("function.json")
        }
    }

    @Test func theLargestBodyLighttpdPassesIsAccepted() throws {
        let json = #"{"route":"/api/demo","processes":{"min":1,"max":1},"maxBodyBytes":65536,"environment":{}}"#
        #expect(try manifest(json).maxBodyBytes == Manifest.maxBodyBytesLimit)
    }

    @Test func aBadFunctionNameIsRefused() {
        #expect(throws: HostingError.self) { try manifest(valid, name: "Bad Name") }
    }

    @Test func aMissingFunctionsFolderIsAClearError() {
        #expect(throws: HostingError("no functions directory at /nonexistent (use --root to point at the project)")) {
            try Manifest.loadAll(from: "/nonexistent")
        }
    }
}
