import Basics
import Foundation
import Sales
import Synchronization
import TestSupport
import Testing

/// Two hosts of one sale, each `flashsale serve` with its own data directory and stock segment,
/// sharing the keys, one PostgreSQL (the truth) and one Redis (the gate's tables): a token of
/// one buys on the other, the sale sells exactly its stock across both, and what one host
/// counts of an address the other sees.
@Suite struct DistributedHostsTests {
    /// Host A (a `LiveShop`, whose desk sets sales up) and host B, on the same servers.
    /// `@unchecked Sendable`: buyer threads only read the ports and sign identities (as with
    /// `LiveShop`); the hosts are started and stopped from the test's own thread.
    final class TwoHosts: @unchecked Sendable {
        let shop: LiveShop
        let second: ServeProcess

        init(database: String) throws {
            let redis = try RedisServer.shared().url
            let url = try PostgresServer.shared().createDatabase(database)
            shop = try LiveShop(store: url, gate: redis)
            let first = shop.host.data
            let data = DataDirectory(path: shop.project.root + "/var-b")
            try FileManager.default.createDirectory(atPath: data.path, withIntermediateDirectories: true)
            // The hosts of one sale share their keys: copied before the second host's init.
            for key in [\DataDirectory.secretKey, \DataDirectory.identityKey] {
                try FileManager.default.copyItem(atPath: first[keyPath: key], toPath: data[keyPath: key])
            }
            try LiveShop.initialise(data, store: url, gate: redis)
            second = try ServeProcess(root: shop.project.root, data: data)
        }

        var ports: [Int] { [shop.host.port, second.port] }

        /// A buyer's token from one host and order through the other.
        func buy(_ user: String, sale: String, tokenFrom first: Int) throws -> HTTPAnswer {
            let identity = try shop.identity(user)
            let token = try HTTPClient.request(
                port: ports[first], method: "POST", target: "/api/token", headers: identity,
                body: Array(#"{"sale":"\#(sale)"}"#.utf8))
            guard token.status == 200, let issued = try? token.json(), let url = issued["orderUrl"] as? String,
                let value = issued["token"] as? String
            else { return token }
            return try HTTPClient.request(
                port: ports[1 - first], method: "POST", target: url, headers: identity,
                body: Array(#"{"sale":"\#(sale)","token":"\#(value)"}"#.utf8))
        }
    }

    @Test func thirtyUnitsSoldAcrossTwoHostsAreExactlyThirty() throws {
        let hosts = try TwoHosts(database: "two_hosts")
        try hosts.shop.createSale("across", stock: 30)
        let outcomes = Outcomes()
        let byHost = Mutex([0, 0])

        #expect(
            crowd(300, threads: 16) { index in
                let answer = try? hosts.buy("user\(index)", sale: "across", tokenFrom: index % 2)
                outcomes.record("user\(index)", answer)
                if answer?.status == 201 { byHost.withLock { $0[1 - index % 2] += 1 } }
            })

        let (sale, orders) = try hosts.shop.truth("across")
        #expect(orders.count == 30 && sale.remaining == 0, "\(outcomes.histogram)\n\(hosts.shop.logTail)")
        #expect(outcomes.created.count == 30)
        #expect(byHost.withLock { $0.allSatisfy { $0 > 0 } }, "\(byHost.withLock { $0 })")
        #expect(
            outcomes.all.values.filter { $0.status != 201 }.allSatisfy { $0.status == 409 && $0.code == "sold_out" },
            "\(outcomes.histogram)\n\(hosts.shop.logTail)")
        try expectConsistent(hosts.shop, "across", outcomes: outcomes)
    }

    /// One address asking both hosts for tokens gets its rate once, not once per host: the
    /// hosts count it in Redis together.
    @Test func anAddressGetsItsRateOnceAcrossBothHosts() throws {
        let hosts = try TwoHosts(database: "two_hosts_rate")
        try hosts.shop.createSale("crowded", stock: 1_000, perIPRate: 10)
        let issued = Mutex(0)
        let limited = Mutex(0)
        // A loaded machine may leave a Redis call unanswered within its timeout: 503 busy.
        let busy = Mutex(0)
        let started = Date()
        #expect(
            crowd(120, threads: 12) { index in
                let answer = try? HTTPClient.request(
                    port: hosts.ports[index % 2], method: "POST", target: "/api/token",
                    headers: (try? hosts.shop.identity("acct\(index)")) ?? [:],
                    body: Array(#"{"sale":"crowded"}"#.utf8))
                if answer?.status == 200 { issued.withLock { $0 += 1 } }
                if answer?.status == 429 && answer?.errorCode == "rate_limited" { limited.withLock { $0 += 1 } }
                if answer?.status == 503 && answer?.errorCode == "busy" { busy.withLock { $0 += 1 } }
            })
        let seconds = Date().timeIntervalSince(started)
        let (tokens, refused, unanswered) = (issued.withLock { $0 }, limited.withLock { $0 }, busy.withLock { $0 })
        // A burst of 10, then 10 a second, for both hosts together: counted per host, twice that.
        #expect(tokens > 0 && tokens <= 10 + Int((10 * seconds).rounded(.up)), "\(tokens) tokens in \(seconds) s")
        #expect(
            refused > 0 && tokens + refused + unanswered == 120,
            "\(tokens) tokens, \(refused) limited, \(unanswered) busy")
    }

    /// Redis gone mid-sale: every buyer is answered 503 `busy` (nothing let through unguarded,
    /// no order placed); once it is back, the same processes sell the rest exactly.
    @Test func aLostRedisIsAnsweredBusyAndTheSaleStillSellsExactly() throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let shop = try LiveShop(store: try PostgresServer.shared().createDatabase("lost_redis"), gate: redis.url)
        try shop.createSale("gated", stock: 8)
        let early = Outcomes()
        for index in 0..<3 { early.record("early\(index)", try shop.buy("early\(index)", sale: "gated")) }
        #expect(early.created.count == 3, "\(early.histogram)\n\(shop.logTail)")
        let pids = Set(shop.host.functionPIDs("order"))

        redis.kill()
        for index in 0..<3 {
            let answer = try shop.buy("late\(index)", sale: "gated")
            #expect(answer.status == 503 && answer.errorCode == "busy", "\(answer.status) \(answer.text)")
            #expect(answer.text.contains("shared gate"), "\(answer.text)")
        }
        #expect(try shop.truth("gated").orders.count == 3)
        try redis.start()

        let late = Outcomes()
        #expect(
            crowd(20, threads: 4) { index in
                late.record("late\(index)", try? shop.buyRetrying("late\(index)", sale: "gated"))
            })
        let (sale, orders) = try shop.truth("gated")
        #expect(sale.remaining == 0 && orders.count == 8, "\(late.histogram)\n\(shop.logTail)")
        #expect(late.created.count == 5)
        #expect(late.all.values.filter { $0.status != 201 }.allSatisfy { $0.status == 409 }, "\(late.histogram)")
        #expect(Set(shop.host.functionPIDs("order")) == pids, "an order process died")
    }
}
