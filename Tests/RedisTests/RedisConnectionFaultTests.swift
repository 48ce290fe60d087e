import Foundation
import Redis
import TestSupport
import Testing

@Suite struct RedisConnectionFaultTests {
    @Test func aPasswordProtectedServerTakesTheRightPasswordOnly() throws {
        let server = try RedisServer(password: "open sesame")
        #expect(try connect(server.url).command(["PING"]) == .status("PONG"))

        let wrong = try #require(throws: RedisError.self) {
            try connect("redis://:guess@127.0.0.1:\(server.port)")
        }
        #expect(wrong.kind == .server)
        #expect(wrong.code == "WRONGPASS")
        #expect(wrong.command == "AUTH")
        #expect(!wrong.isTransient)
        #expect(!wrong.description.contains("guess"))

        let anonymous = try connect("redis://127.0.0.1:\(server.port)")
        let refused = try #require(throws: RedisError.self) { try anonymous.command(["GET", "x"]) }
        #expect(refused.code == "NOAUTH")
    }

    @Test func theCommandTimeoutBoundsACallAndTheNextCallReconnects() throws {
        let redis = try connect(RedisServer.shared().url, commandTimeoutMs: 200)
        let key = uniqueKey("never-filled")
        for _ in 1...2 {
            let started = ContinuousClock.now
            let error = try #require(throws: RedisError.self) { try redis.command(["BLPOP", key, "10"]) }
            let waited = ContinuousClock.now - started
            #expect(error.kind == .timeout)
            #expect(error.errno == EAGAIN)
            #expect(error.command == "BLPOP")
            #expect(error.isTransient)
            #expect(waited >= .milliseconds(150) && waited < .seconds(3))
            #expect(try redis.command(["PING"]) == .status("PONG"))
        }
    }

    @Test func aKilledServerFailsCallsTransientlyUntilItIsBack() throws {
        let server = try RedisServer(password: "pw")
        let redis = try connect(server.url + "/3")
        #expect(try redis.command(["SET", "k", "v"]) == .status("OK"))

        server.kill()
        let inFlight = try #require(throws: RedisError.self) { try redis.command(["GET", "k"]) }
        #expect([.eof, .io].contains(inFlight.kind))
        #expect(inFlight.isTransient)
        let down = try #require(throws: RedisError.self) { try redis.command(["GET", "k"]) }
        #expect(down.kind == .connect)
        #expect(down.errno == ECONNREFUSED)
        #expect(down.isTransient)

        try server.start()
        #expect(try redis.command(["SET", "k", "again"]) == .status("OK"))
        #expect(try redis.command(["CLIENT", "INFO"]).text?.contains(" db=3 ") == true)
    }

    @Test func aConnectionKilledByAnotherClientReconnects() throws {
        let server = try RedisServer.shared()
        let redis = try connect(server.url)
        let id = try #require(try redis.command(["CLIENT", "ID"]).integer)
        #expect(try connect(server.url).command(["CLIENT", "KILL", "ID", String(id)]) == .integer(1))

        let error = try #require(throws: RedisError.self) { try redis.command(["PING"]) }
        #expect(error.kind == .eof)
        #expect(error.isTransient)
        #expect(try redis.command(["PING"]) == .status("PONG"))
        #expect(try redis.command(["CLIENT", "ID"]).integer != id)
    }

    @Test func connectingToAClosedPortNamesHostAndPort() throws {
        let port = try freePort()
        let error = try #require(throws: RedisError.self) { try connect("redis://127.0.0.1:\(port)") }
        #expect(error.kind == .connect)
        #expect(error.errno == ECONNREFUSED)
        #expect(error.message == "connecting to 127.0.0.1:\(port): Connection refused")
        #expect(error.isTransient)
    }
}
