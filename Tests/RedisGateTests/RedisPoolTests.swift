import Basics
import Redis
import RedisGate
import TestSupport
import Testing

@Suite struct RedisPoolTests {
    @Test func aConnectionPutBackIsTakenAgainAndANestedCallGetsAnother() throws {
        let pool = try openPool(RedisServer.shared().url)
        let clientID = { (redis: RedisConnection) throws(RedisError) in try redis.command(["CLIENT", "ID"]).integer }
        let first = try pool.withConnection(clientID)
        #expect(first != nil)
        #expect(try pool.withConnection(clientID) == first)
        let (outer, inner) = try pool.withConnection { redis throws(RedisError) in
            (try clientID(redis), try pool.withConnection(clientID))
        }
        #expect(outer == first)
        #expect(inner != nil && inner != outer)
    }

    /// Nothing connects until a call: then a refused connection fails it, and the calls of the
    /// next second fail at once without trying.
    @Test func anUnreachableServerFailsACallThenPauses() throws {
        let port = try freePort()
        let pool = openPool("redis://127.0.0.1:\(port)")
        let error = try #require(throws: RedisError.self) { try pool.check() }
        #expect(error.kind == .connect && error.isTransient)
        let paused = try #require(throws: RedisError.self) { try pool.check() }
        #expect(paused.kind == .connect && paused.message.contains("not trying again yet"))
    }

    @Test func aWrongURLFailsItsFirstCall() throws {
        let error = try #require(throws: RedisError.self) { try openPool("http://127.0.0.1:6379").check() }
        #expect(error.kind == .other)
        #expect(!error.isTransient)
    }

    /// A pooled connection that the server closed while it sat idle (here CLIENT KILL, as a
    /// restart or an idle timeout would) is made anew before use: the call succeeds.
    @Test func aConnectionClosedWhileIdleIsReplacedBeforeUse() throws {
        let server = try RedisServer.shared()
        let pool = openPool(server.url)
        let first = try pool.withConnection { redis throws(RedisError) in try redis.command(["CLIENT", "ID"]).integer }
        let id = try #require(first)
        let admin = try RedisConnection(url: server.url)
        #expect(try admin.command(["CLIENT", "KILL", "ID", String(id)]) == .integer(1))
        #expect(
            eventually(within: 5) {
                (try? admin.command(["CLIENT", "LIST", "ID", String(id)]))?.text?.isEmpty ?? false
            })
        let second = try pool.withConnection { redis throws(RedisError) in try redis.command(["CLIENT", "ID"]).integer }
        #expect(second != nil && second != first)
    }
}
