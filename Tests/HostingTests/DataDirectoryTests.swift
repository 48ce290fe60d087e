import Basics
import Foundation
import Hosting
import Store
import TestSupport
import Testing

@Suite struct DataDirectoryTests {
    @Test func resolvesOptionThenEnvironmentThenVar() {
        let cwd = FileManager.default.currentDirectoryPath
        #expect(DataDirectory.resolve(option: "/a", environment: ["FLASHSALE_DATA": "/b"]).path == "/a")
        #expect(DataDirectory.resolve(option: nil, environment: ["FLASHSALE_DATA": "/b"]).path == "/b")
        #expect(DataDirectory.resolve(option: nil, environment: [:]).path == cwd + "/var")
        #expect(DataDirectory(path: "x/../y").path == cwd + "/y")
    }

    @Test func initCreatesAnOwnerOnlySecretKeyAndAWALDatabase() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let data = DataDirectory(path: temporary.path + "/var")
        try data.initialize()

        for file in [data.secretKey, data.identityKey] {
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            let key = try String(contentsOfFile: file, encoding: .utf8)
            #expect(key.range(of: "^[0-9a-f]{64}\n$", options: .regularExpression) != nil)
            #expect(try data.keyBytes(file).count == 64)
        }
        #expect(try data.keyBytes(data.secretKey) != data.keyBytes(data.identityKey))
        let directoryMode = try FileManager.default.attributesOfItem(atPath: data.path)[.posixPermissions] as? Int
        #expect(directoryMode == 0o700)
        #expect(try Database(path: data.database).text("PRAGMA journal_mode") == "wal")
        for folder in [data.sockets, data.logs, data.uploads, data.errorPages] {
            var isDirectory: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) && isDirectory.boolValue)
        }
    }

    @Test func initTwiceKeepsTheKey() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let data = DataDirectory(path: temporary.path)
        try data.initialize()
        let first = try String(contentsOfFile: data.secretKey, encoding: .utf8)
        try data.initialize()
        #expect(try String(contentsOfFile: data.secretKey, encoding: .utf8) == first)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: data.path).filter { $0.hasPrefix("secret") } == [
                "secret.key"
            ])
    }

    @Test func twoDirectoriesGetDifferentKeys() throws {
        let a = try TemporaryDirectory(), b = try TemporaryDirectory()
        defer { a.remove(); b.remove() }
        try DataDirectory(path: a.path).initialize()
        try DataDirectory(path: b.path).initialize()
        #expect(
            try String(contentsOfFile: a.path + "/secret.key", encoding: .utf8)
                != String(contentsOfFile: b.path + "/secret.key", encoding: .utf8))
    }

    @Test func checkUsableExplainsWhatIsWrong() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let missing = DataDirectory(path: temporary.path + "/missing")
        let absent = DataDirectoryError("data directory \(missing.path) does not exist: run `flashsale init` first")
        #expect(throws: absent) { try missing.checkUsable() }
        let empty = DataDirectory(path: temporary.path)
        #expect(
            throws: DataDirectoryError("data directory \(empty.path) has no secret key: run `flashsale init` first")
        ) {
            try empty.checkUsable()
        }
        try empty.initialize()
        try empty.checkUsable()
    }
}
