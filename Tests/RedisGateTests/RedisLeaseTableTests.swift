import Redis
import RedisGate
import Sales
import Synchronization
import TestSupport
import Testing

/// What the backend contract suite asks of a lease table, asked of Redis's: one holder per key,
/// across hosts and threads, until given back or ended by the callers' clock.
@Suite struct RedisLeaseTableTests {
    static let account: UInt64 = 0x5EED_0000_0000_0A11

    /// Two tables of one name on two pools: the same table as two hosts see it.
    static func twoHosts(_ name: String, maxLeaseMs: Int64 = 60_000) throws -> (RedisLeaseTable, RedisLeaseTable) {
        let url = try RedisServer.shared().url
        return (
            RedisLeaseTable(pool: openPool(url), name: name, maxLeaseMs: maxLeaseMs),
            RedisLeaseTable(pool: openPool(url), name: name, maxLeaseMs: maxLeaseMs)
        )
    }

    @Test func aLeaseIsHeldUntilItIsGivenBack() throws {
        let (accounts, elsewhere) = try Self.twoHosts(freshName("held"))
        let now = fakeNowMs
        let lease = try #require(accounts.acquire(Self.account, nowMs: now, leaseMs: 5_000).lease)
        #expect(accounts.isHeld(Self.account, nowMs: now))
        #expect(elsewhere.isHeld(Self.account, nowMs: now + 1_000))
        #expect(accounts.acquire(Self.account, nowMs: now, leaseMs: 5_000) == .busy)
        #expect(elsewhere.acquire(Self.account, nowMs: now + 1_000, leaseMs: 5_000) == .busy)
        #expect(!accounts.isHeld(Self.account &+ 1, nowMs: now))
        accounts.release(lease)
        #expect(!elsewhere.isHeld(Self.account, nowMs: now + 1_000))
        #expect(elsewhere.acquire(Self.account, nowMs: now + 1_000, leaseMs: 5_000).lease != nil)
    }

    @Test func aLeaseNeverGivenBackEndsByTheCallersClock() throws {
        let (accounts, elsewhere) = try Self.twoHosts(freshName("expiry"))
        #expect(accounts.tickMs == 1)
        let leaseMs: Int64 = 1_000
        let taken = fakeNowMs
        let first = try #require(accounts.acquire(Self.account, nowMs: taken, leaseMs: leaseMs).lease)
        let stillHeld = taken + leaseMs - accounts.tickMs
        #expect(elsewhere.isHeld(Self.account, nowMs: stillHeld))
        #expect(elsewhere.acquire(Self.account, nowMs: stillHeld, leaseMs: leaseMs) == .busy)
        let ended = taken + leaseMs + accounts.tickMs
        #expect(!elsewhere.isHeld(Self.account, nowMs: ended))
        let second = try #require(elsewhere.acquire(Self.account, nowMs: ended, leaseMs: leaseMs).lease)
        #expect(second != first)
        // The first holder, late, gives back what is now another's lease: it stays held.
        accounts.release(first)
        #expect(accounts.isHeld(Self.account, nowMs: ended))
        #expect(accounts.acquire(Self.account, nowMs: ended, leaseMs: leaseMs) == .busy)
        elsewhere.release(second)
        #expect(!accounts.isHeld(Self.account, nowMs: ended))
    }

    /// Hosts' clocks differ a little: a lease taken by a host whose clock is ahead is still held
    /// for a host whose clock is behind, by up to Redis's expiry slack. Only an end further
    /// ahead than the longest lease and that slack (a clock stepped far back) holds nothing.
    @Test func aLeaseIsHeldForAClockBehindTheTakersButNotForOneFarBehind() throws {
        let (accounts, elsewhere) = try Self.twoHosts(freshName("ahead"), maxLeaseMs: 10_000)
        let taken = fakeNowMs
        #expect(accounts.acquire(Self.account, nowMs: taken, leaseMs: 10_000).lease != nil)
        #expect(elsewhere.isHeld(Self.account, nowMs: taken))
        #expect(elsewhere.isHeld(Self.account, nowMs: taken + 9_999))
        #expect(elsewhere.isHeld(Self.account, nowMs: taken - 1_000))
        #expect(elsewhere.acquire(Self.account, nowMs: taken - 1_000, leaseMs: 1_000) == .busy)
        let farBehind = taken - RedisLeaseTable.clockSlackMs - 1
        #expect(!elsewhere.isHeld(Self.account, nowMs: farBehind))
        #expect(elsewhere.acquire(Self.account, nowMs: farBehind, leaseMs: 1_000).lease != nil)
    }

    /// The key is hash-tagged and Redis drops it some time after the lease's end, never before.
    @Test func theRedisKeyIsHashTaggedAndExpiresAfterTheLease() throws {
        let name = freshName("key")
        let url = try RedisServer.shared().url
        let table = RedisLeaseTable(pool: openPool(url), name: name, maxLeaseMs: 60_000)
        let lease = try #require(table.acquire(0xAB, nowMs: fakeNowMs, leaseMs: 30_000).lease)
        let redis = try RedisConnection(url: url)
        let key = redisKey(0xAB, in: name)
        #expect(key == "{flashsale}:\(name):00000000000000ab")
        let value = try #require(try redis.command(["GET", key]).text)
        #expect(value.hasPrefix("\(fakeNowMs + 30_000) "))
        let expiresInMs = try #require(try redis.command(["PTTL", key]).integer)
        #expect(expiresInMs > 30_000 && expiresInMs <= 90_000)
        table.release(lease)
        #expect(try redis.command(["EXISTS", key]) == .integer(0))
    }

    @Test func everyKeyTakenFromEightThreadsThroughTwoPoolsHasOneHolder() throws {
        let (one, other) = try Self.twoHosts(freshName("crowd"))
        let tables = [one, other]
        let keys = (1...1_000).map { Self.account &+ UInt64($0) &* 0x9E37_79B9_7F4A_7C15 }
        let threads = 8
        let holders = Mutex<[UInt64: Int]>([:])
        let outcomes = Mutex<[String: Int]>([:])
        let finished = onThreads(threads) { thread in
            var tally: [String: Int] = [:]
            var held: [UInt64] = []
            for key in keys {
                let outcome = tables[thread % tables.count].acquire(key, nowMs: fakeNowMs, leaseMs: 5_000)
                tally[outcome.name, default: 0] += 1
                if outcome.lease != nil { held.append(key) }
            }
            outcomes.withLock { $0.merge(tally, uniquingKeysWith: +) }
            holders.withLock { holders in
                for key in held { holders[key, default: 0] += 1 }
            }
        }
        #expect(finished)
        #expect(outcomes.withLock { $0 } == ["acquired": keys.count, "busy": keys.count * (threads - 1)])
        #expect(holders.withLock { $0 } == Dictionary(uniqueKeysWithValues: keys.map { ($0, 1) }))
    }
}
