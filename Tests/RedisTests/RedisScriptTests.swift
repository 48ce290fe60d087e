import Foundation
import Redis
import TestSupport
import Testing

@Suite struct RedisScriptTests {
    /// A script no other test loads (a comment makes its SHA-1 unique), adding ARGV[1] to KEYS[1].
    private func incrementBy() -> RedisScript {
        RedisScript("-- \(UUID().uuidString)\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])")
    }

    @Test func aScriptRunsByTheShaTheServerGaveIt() throws {
        let redis = try connect(RedisServer.shared().url)
        let script = incrementBy()
        let key = uniqueKey("stock")
        #expect(try redis.evaluate(script, keys: [key], arguments: ["5"]) == .integer(5))
        #expect(try redis.evaluate(script, keys: [key], arguments: ["-2"]) == .integer(3))
        let sha1 = try redis.load(script)
        #expect(sha1.count == 40 && sha1.allSatisfy(\.isHexDigit))
        #expect(try connect(RedisServer.shared().url).command(["SCRIPT", "LOAD", script.source]).text == sha1)
    }

    @Test func aFlushedScriptIsLoadedAgainAndRunOnce() throws {
        let server = try RedisServer.shared()
        let redis = try connect(server.url)
        let other = try connect(server.url)
        let script = incrementBy()
        let key = uniqueKey("stock")
        let sha1 = try redis.load(script)
        #expect(try redis.evaluate(script, keys: [key], arguments: ["10"]) == .integer(10))
        _ = try other.command(["SCRIPT", "FLUSH"])
        #expect(try other.command(["SCRIPT", "EXISTS", sha1]) == .array([.integer(0)]))
        #expect(try redis.evaluate(script, keys: [key], arguments: ["1"]) == .integer(11))
        #expect(try other.command(["SCRIPT", "EXISTS", sha1]) == .array([.integer(1)]))
        #expect(try other.command(["GET", key]) == .string("11"))
    }

    @Test func aScriptsErrorReplySurfacesAsAServerError() throws {
        let redis = try connect(RedisServer.shared().url)
        let script = RedisScript("return redis.error_reply('OUT_OF_STOCK sold out')")
        let error = try #require(throws: RedisError.self) { try redis.evaluate(script, keys: [], arguments: []) }
        #expect(error.kind == .server)
        #expect(error.code == "OUT_OF_STOCK")
        #expect(error.message == "sold out")
        #expect(error.command == "EVALSHA")
        #expect(!error.isTransient)
    }

    @Test func aScriptsFailedCallSurfacesWithTheCallsCode() throws {
        let redis = try connect(RedisServer.shared().url)
        let key = uniqueKey("list")
        _ = try redis.command(["RPUSH", key, "x"])
        let script = RedisScript("return redis.call('GET', KEYS[1])")
        let error = try #require(throws: RedisError.self) { try redis.evaluate(script, keys: [key], arguments: []) }
        #expect(error.code == "WRONGTYPE")
        #expect(error.command == "EVALSHA")
    }
}
