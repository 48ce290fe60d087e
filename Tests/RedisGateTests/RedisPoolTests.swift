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

    @Test func anUnreachableServerFailsAtOnce() throws {
        let port = try freePort()
        let error = try #require(throws: RedisError.self) { try openPool("redis://127.0.0.1:\(port)") }
        #expect(error.kind == .connect)
        #expect(error.isTransient)
    }

    @Test func aWrongURLFailsAtOnce() throws {
        let error = try #require(throws: RedisError.self) { try openPool("http://127.0.0.1:6379") }
        #expect(error.kind == .other)
        #expect(!error.isTransient)
    }
}
