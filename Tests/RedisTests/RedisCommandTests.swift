import Redis
import TestSupport
import Testing

@Suite struct RedisCommandTests {
    @Test func setGetAndIncrRoundTrip() throws {
        let redis = try connect(RedisServer.shared().url)
        let key = uniqueKey("counter")
        #expect(try redis.command(["SET", key, "41"]) == .status("OK"))
        #expect(try redis.command(["GET", key]).text == "41")
        #expect(try redis.command(["INCR", key]) == .integer(42))
        #expect(try redis.command(["GET", key]) == .string("42"))
        #expect(try redis.command(["GET", uniqueKey("missing")]) == .null)
    }

    @Test func keysAndValuesAreBinarySafe() throws {
        let redis = try connect(RedisServer.shared().url)
        let key = Array(uniqueKey("binary").utf8) + [0, 13, 10, 0xff]
        let value: [UInt8] = [0, 0xff, 13, 10, 36, 42, 13, 10, 0, 0xfe]
        #expect(try redis.command([Array("SET".utf8), key, value]) == .status("OK"))
        #expect(try redis.command([Array("GET".utf8), key]) == .string(value))
        #expect(try redis.command([Array("STRLEN".utf8), key]) == .integer(Int64(value.count)))
        #expect(try redis.command([Array("GET".utf8), Array(key.dropLast())]) == .null)
    }

    @Test func mgetAnswersAnArrayWithNullForAMissingKey() throws {
        let redis = try connect(RedisServer.shared().url)
        let (first, missing, last) = (uniqueKey("a"), uniqueKey("b"), uniqueKey("c"))
        _ = try redis.command(["MSET", first, "1", last, "3"])
        let reply = try redis.command(["MGET", first, missing, last])
        #expect(reply == .array([.string("1"), .null, .string("3")]))
        #expect(reply.array?.map(\.text) == ["1", nil, "3"])
    }

    @Test func aWrongTypeReplyThrowsAServerErrorAndKeepsTheConnection() throws {
        let redis = try connect(RedisServer.shared().url)
        let key = uniqueKey("list")
        _ = try redis.command(["RPUSH", key, "x"])
        let id = try redis.command(["CLIENT", "ID"])
        let error = try #require(throws: RedisError.self) { try redis.command(["GET", key]) }
        #expect(error.kind == .server)
        #expect(error.code == "WRONGTYPE")
        #expect(error.command == "GET")
        #expect(!error.isTransient)
        #expect(
            error.description
                == "Redis error (server WRONGTYPE): Operation against a key holding the wrong kind of value — in GET")
        #expect(try redis.command(["CLIENT", "ID"]) == id)
    }

    @Test func anErrorNamesTheCommandButNotItsArguments() throws {
        let redis = try connect(RedisServer.shared().url)
        let error = try #require(throws: RedisError.self) {
            try redis.command(["set", uniqueKey("secret"), "hunter2", "EX", "soon"])
        }
        #expect(error.code == "ERR")
        #expect(error.command == "SET")
        #expect(!error.description.contains("hunter2"))
        #expect(!error.description.contains("redis-tests"))
    }

    @Test func theDatabaseInTheURLIsSelected() throws {
        let server = try RedisServer.shared()
        let inFive = try connect(server.url + "/5")
        let key = uniqueKey("selected")
        _ = try inFive.command(["SET", key, "in five"])
        #expect(try connect(server.url + "/5").command(["GET", key]) == .string("in five"))
        #expect(try connect(server.url).command(["GET", key]) == .null)
        #expect(try inFive.command(["CLIENT", "INFO"]).text?.contains(" db=5 ") == true)
    }

    @Test(arguments: [
        "http://:pw@127.0.0.1:6379", "redis://:pw@/", "redis://:pw@127.0.0.1/five", "redis://:pw@127.0.0.1/-1",
        "redis://:pw@127.0.0.1?db=1", "redis://user@127.0.0.1", "no url at all",
    ])
    func anInvalidURLIsRefusedWithoutQuotingIt(url: String) throws {
        let error = try #require(throws: RedisError.self) { try connect(url) }
        #expect(error.kind == .other)
        #expect(error.message.hasPrefix("invalid Redis URL: "))
        #expect(!error.description.contains("pw"))
        #expect(!error.isTransient)
    }
}
