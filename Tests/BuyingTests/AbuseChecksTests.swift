import Challenges
import FastCGI
import Foundation
import HTTPTypes
import Identity
import Segment
import Testing

@testable import Buying

@Suite struct AbuseChecksTests {
    /// Where the functions keep `user`'s lease.
    func accountKey(_ shop: Shop, _ user: String) throws -> UInt64 {
        TableKeys(secret: try shop.data.keyBytes(shop.data.secretKey)).key("account", user)
    }

    /// Many accounts from one address: the sale's rate per address, then 429 with the wait.
    @Test func oneAddressGetsItsRateOfTokensAndThenAWait() throws {
        let shop = try Shop()
        try shop.createSale("mug", stock: 100, perIPRate: 3)
        let answers = try (0..<5).map { try shop.askToken("user\($0)", sale: "mug", from: "203.0.113.9") }
        #expect(answers.prefix(3).allSatisfy { $0.status == .ok })
        for refused in answers.suffix(2) {
            #expect(refused.status == .tooManyRequests)
            #expect(refused.errorCode == "rate_limited")
            #expect(Int(refused.headers[.retryAfter] ?? "") ?? 0 >= 1)
        }
        #expect(try shop.askToken("other", sale: "mug", from: "198.51.100.7").status == .ok)
        let slot = try shop.state(of: "mug").slot
        #expect(slot.count(.rejectedRateLimited) == 2 && slot.count(.admissions) == 4)
        // Waiting as told lets the address in again.
        shop.clock.advance(by: Int64(answers[4].headers[.retryAfter] ?? "0")! * 1000)
        #expect(try shop.askToken("user9", sale: "mug", from: "203.0.113.9").status == .ok)
    }

    @Test func ordersCountAgainstTheRateToo() throws {
        let shop = try Shop()
        let sale = try shop.createSale("mug", stock: 100, perIPRate: 1)
        let token = try shop.mintOrderToken(user: "ann", sale: "mug")
        let path = OrderFunction.orderPath(secret: sale.secret)
        let first = try shop.placeOrder("ann", path: path, sale: "mug", token: token, from: "192.0.2.1")
        #expect(first.status == .created)
        _ = try shop.askToken("bob", sale: "mug", from: "198.51.100.7")  // an admission, which must stay
        let before = try shop.snapshot(of: "mug")
        let second = try shop.placeOrder("bob", path: path, sale: "mug", token: token, from: "192.0.2.1")
        #expect(second.status == .tooManyRequests)
        #expect(second.errorCode == "rate_limited")
        #expect(try shop.snapshot(of: "mug") == before)
        #expect(before.remaining == 99 && before.orders.map(\.user) == ["ann"] && before.admissionsInWindow == 1)
    }

    @Test func aSaleWithoutARateLimitsNoOne() throws {
        let shop = try Shop()
        try shop.createSale("mug", stock: 100)
        for index in 0..<50 {
            #expect(try shop.askToken("user\(index)", sale: "mug", from: "203.0.113.9").status == .ok)
        }
    }

    /// While one request of an account runs (its lease held, here by the test as another
    /// process would), a second is refused at once, before any database read or stock taken.
    @Test func aSecondRequestOfAnAccountIsBusyUntilTheFirstEnds() throws {
        let shop = try Shop()
        let sale = try shop.createSale("mug", stock: 5)
        let leases = shop.desk.segment.accountLeases
        guard
            case .acquired(let lease) = leases.acquire(
                try accountKey(shop, "ann"), nowMs: shop.clock.ms, leaseMs: 5_000)
        else {
            Issue.record("the test could not take ann's lease")
            return
        }
        let token = try shop.askToken("ann", sale: "mug")
        #expect(token.status == .serviceUnavailable)
        #expect(token.errorCode == "busy")
        #expect(token.headers[.retryAfter] == "1")
        let order = try shop.placeOrder(
            "ann", path: OrderFunction.orderPath(secret: sale.secret), sale: "mug",
            token: try shop.mintOrderToken(user: "ann", sale: "mug"))
        #expect(order.status == .serviceUnavailable)
        let slot = try shop.state(of: "mug").slot
        #expect(slot.remaining == 5)
        #expect(slot.count(.rejectedAccountBusy) == 2 && slot.count(.rejectedBusy) == 2)
        #expect(try shop.askToken("bob", sale: "mug").status == .ok)
        leases.release(lease)
        #expect(try shop.buy("ann", sale: "mug").status == .created)
    }

    /// A process that died holding an account's lease locks it out for one lease at most.
    @Test func aLeaseLeftByADeadProcessEnds() throws {
        let shop = try Shop()
        try shop.createSale("mug", stock: 5)
        _ = shop.desk.segment.accountLeases.acquire(
            try accountKey(shop, "ann"), nowMs: shop.clock.ms, leaseMs: shop.context.settings.accountLeaseMs)
        #expect(try shop.askToken("ann", sale: "mug").status == .serviceUnavailable)
        shop.clock.advance(by: shop.context.settings.accountLeaseMs + 20)
        #expect(try shop.askToken("ann", sale: "mug").status == .ok)
    }

    @Test(
        arguments: [
            // lighttpd's address, trusted proxies, X-Forwarded-For, the client address used
            ("203.0.113.9", [], "198.51.100.1", "203.0.113.9"),  // no proxy trusted: the header is ignored
            ("10.0.0.1", ["10.0.0.1"], "198.51.100.1", "198.51.100.1"),
            // What the client wrote before the proxy's hop is not believed.
            ("10.0.0.1", ["10.0.0.1"], "6.6.6.6, 198.51.100.1", "198.51.100.1"),
            ("10.0.0.1", ["10.0.0.1", "10.0.0.2"], "198.51.100.1, 10.0.0.2", "198.51.100.1"),
            ("10.0.0.1", ["10.0.0.1"], "", "10.0.0.1"),
            ("10.0.0.9", ["10.0.0.1"], "198.51.100.1", "10.0.0.9"),
            // One spelling whatever the proxy writes: ports and brackets dropped, IPv6 shortened.
            ("10.0.0.1", ["10.0.0.1"], "198.51.100.1:5123", "198.51.100.1"),
            ("10.0.0.1", ["10.0.0.1"], "[2001:db8:0:0::7]:443", "2001:db8::7"),
            ("10.0.0.1", ["10.0.0.1"], "::ffff:198.51.100.1", "198.51.100.1"),
            ("10.0.0.1", ["10.0.0.1"], "not-an-address", "10.0.0.1"),
        ] as [(String, Set<String>, String, String)])
    func theClientAddressBelievesForwardedForOnlyFromTrustedProxies(
        _ remote: String, _ trusted: Set<String>, _ forwarded: String, _ client: String
    ) {
        var headers: HTTPFields = [:]
        if !forwarded.isEmpty { headers[ClientAddress.forwardedFor] = forwarded }
        let request = Request(method: .post, path: "/api/token", headers: headers, remoteAddress: remote)
        #expect(ClientAddress.of(request, trusting: trusted) == client)
    }

    /// A sale for accounts of a minimum level: the identity's level claim decides.
    @Test(arguments: [(nil, 403), (2, 403), (3, 200), (7, 200)] as [(Int?, Int)])
    func anAccountBelowTheSalesLevelIsForbidden(_ level: Int?, _ status: Int) throws {
        let shop = try Shop()
        try shop.createSale("vip", stock: 5, minLevel: 3)
        let identity = try shop.identitySigner.sign(UserClaims(user: "ann", expires: Date() + 600, level: level))
        let answer = shop.call(
            shop.token,
            Request(
                method: .post, path: "/api/token", headers: [.authorization: "Bearer \(identity)"],
                body: Array(#"{"sale":"vip"}"#.utf8)))
        #expect(answer.status.code == status)
        if status == 403 {
            #expect(answer.errorCode == "forbidden")
            #expect(try shop.state(of: "vip").slot.count(.rejectedForbidden) == 1)
        }
    }

    /// The buckets of one client in any spelling: the subscriber (an IPv4 address, an IPv6
    /// /64) and the network around it (an IPv4 /24, an IPv6 /48).
    @Test(
        arguments: [
            ("198.51.100.7", "198.51.100.7", "198.51.100.0/24"),
            ("::ffff:198.51.100.7", "198.51.100.7", "198.51.100.0/24"),
            ("::ffff:c633:6407", "198.51.100.7", "198.51.100.0/24"),
            ("2001:db8:1:2:aaaa::1", "20010db800010002::/64", "20010db80001::/48"),
            ("2001:0db8:0001:0002:bbbb:0000:0000:0009", "20010db800010002::/64", "20010db80001::/48"),
            ("2001:DB8:1:2::", "20010db800010002::/64", "20010db80001::/48"),
            ("2001:db8:1:ffff::1", "20010db80001ffff::/64", "20010db80001::/48"),
            ("2001:db8:2::1", "20010db800020000::/64", "20010db80002::/48"),
            ("::1", "0000000000000000::/64", "000000000000::/48"),
        ] as [(String, String, String)])
    func theBucketsOfAnAddressInAnySpelling(_ address: String, _ subscriber: String, _ network: String) {
        let buckets = ClientAddress.buckets(of: address)
        #expect(buckets.subscriber == subscriber)
        #expect(buckets.network == network)
    }

    /// Text that is no address (a Unix socket's peer, a proxy's nonsense) is its own bucket.
    @Test(arguments: ["not-an-address", "", "fe80::1%eth0", "198.51.100"])
    func textThatIsNoAddressIsItsOwnSubscriberInNoNetwork(_ text: String) {
        let buckets = ClientAddress.buckets(of: text)
        #expect(buckets.subscriber == text && buckets.network == nil)
    }

    /// Asks for a token as `count` users, from `address(index)` each, and returns the answers.
    func askTokens(_ shop: Shop, _ count: Int, from address: (Int) -> String) throws -> [Response] {
        try (0..<count).map { try shop.askToken("user\($0)", sale: "mug", from: address($0)) }
    }

    /// Refused by the network's bucket: 429 with the wait and a message that says so.
    func expectNetworkRefusal(_ answer: Response, _ network: String) {
        #expect(answer.status == .tooManyRequests)
        #expect(answer.errorCode == "rate_limited")
        #expect(Int(answer.headers[.retryAfter] ?? "") ?? 0 >= 1)
        #expect(answer.text.contains("this address's network (\(network))"), "\(answer.text)")
    }

    /// The attack as filed: a /48 holds 65,536 /64s, each a rate of its own. Together they get
    /// the network's allowance, 16 times the sale's rate; another /48 is not touched.
    @Test func manySlash64sOfOneSlash48GetTheNetworksAllowance() throws {
        let shop = try Shop()
        try shop.createSale("mug", stock: 100, perIPRate: 1)
        let allowance = SaleRequest.networkRateMultiple
        let answers = try askTokens(shop, allowance + 4) { "2001:db8:1:\(String($0, radix: 16))::1" }
        #expect(answers.prefix(allowance).allSatisfy { $0.status == .ok })
        for refused in answers.suffix(4) { expectNetworkRefusal(refused, "20010db80001::/48") }
        #expect(try shop.askToken("other", sale: "mug", from: "2001:db8:2::1").status == .ok)
        #expect(try shop.state(of: "mug").slot.count(.rejectedRateLimited) == 4)
        // Waiting as told lets the network in again.
        shop.clock.advance(by: Int64(answers.last!.headers[.retryAfter] ?? "0")! * 1000)
        #expect(try shop.askToken("late", sale: "mug", from: "2001:db8:1:ffff::1").status == .ok)
    }

    /// Many addresses of one IPv4 /24 likewise; the next /24 is not touched.
    @Test func manyAddressesOfOneSlash24GetTheNetworksAllowance() throws {
        let shop = try Shop()
        try shop.createSale("mug", stock: 100, perIPRate: 2)
        let allowance = 2 * SaleRequest.networkRateMultiple
        let answers = try askTokens(shop, allowance + 3) { "198.51.100.\($0 + 1)" }
        #expect(answers.prefix(allowance).allSatisfy { $0.status == .ok })
        for refused in answers.suffix(3) { expectNetworkRefusal(refused, "198.51.100.0/24") }
        #expect(try shop.askToken("other", sale: "mug", from: "198.51.101.1").status == .ok)
        #expect(try shop.askToken("mapped", sale: "mug", from: "::ffff:198.51.100.250").status == .tooManyRequests)
    }

    /// A client refused by its own rate does not spend its network's: its neighbours behind the
    /// same carrier NAT still get the rest of the allowance.
    @Test func aHammeringClientDoesNotSpendItsNeighboursAllowance() throws {
        let shop = try Shop()
        try shop.createSale("mug", stock: 100, perIPRate: 1)
        let hammering = try askTokens(shop, 40) { _ in "203.0.113.9" }
        #expect(hammering.filter { $0.status == .ok }.count == 1)
        #expect(hammering.dropFirst().allSatisfy { $0.text.contains("from this address for this sale") })
        let neighbours = try askTokens(shop, SaleRequest.networkRateMultiple - 1) { "203.0.113.\($0 + 10)" }
        #expect(neighbours.allSatisfy { $0.status == .ok })
    }
}
