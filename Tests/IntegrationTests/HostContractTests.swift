import Backends
import Foundation
import Hosting
import Identity
import Sales
import Segment
import Store
import TestSupport
import Testing

/// One contract, every host: lighttpd, Apache (mod_fcgid, and mod_proxy_fcgi to spawn sockets
/// or remote backends), nginx with spawn-fcgi, and lighttpd balancing remote backends, each configured by
/// `flashsale config` and run for real. A difference between hosts is a failing test. One host
/// at a time: each runs every function's processes.
@Suite(.serialized) struct HostContractTests {
    @Test(arguments: HostedSite.Kind.allCases)
    func everyHostKeepsTheContract(_ kind: HostedSite.Kind) throws {
        let shop = try LiveShop(kind)
        // Every sale before the first request: a function looks for sales it does not know at
        // most once a second.
        let sales = (
            later: try shop.createSale("later", stock: 5, startsInMs: 3_600_000),
            now: try shop.createSale("now", stock: 5)
        )
        try shop.createSale("race", stock: 12)
        try shop.createSale("again", stock: 5)
        try time(shop)
        try errors(shop)
        try staticSite(shop)
        try saleFlagAndPrecheck(shop, later: sales.later, now: sales.now)
        try sellsOutExactly(shop)
        try startsAKilledFunctionAgain(shop)
    }

    func time(_ shop: LiveShop) throws {
        let answer = try shop.request("GET", "/api/time")
        try #require(answer.status == 200, "\(answer.text)\n\(shop.logTail)")
        let served = try #require(answer.json()["now"] as? Double)
        #expect(abs(served - Date().timeIntervalSince1970 * 1000) < 2000)
        #expect(answer.headers["content-type"] == "application/json")
        #expect(answer.headers["cache-control"] == "no-store")
        #expect(answer.headers["x-frame-options"] == "DENY")
        #expect(answer.headers["content-security-policy"]?.contains("default-src 'self'") == true)
        #expect(answer.headers["expires"] == nil)
    }

    /// 404 for a path no function owns, 405 for a wrong method, 413 over a function's cap and
    /// over the host's: JSON errors, with the security headers.
    func errors(_ shop: LiveShop) throws {
        let missing = try shop.request("GET", "/api/nothing-here")
        #expect(missing.status == 404 && missing.errorCode == "not_found", "\(missing.status) \(missing.text)")
        #expect(missing.headers["content-type"] == "application/json")
        #expect(missing.headers["x-content-type-options"] == "nosniff")
        let wrongMethod = try shop.request("POST", "/api/time")
        #expect(wrongMethod.status == 405 && wrongMethod.errorCode == "method_not_allowed")
        #expect(wrongMethod.headers["allow"] == "GET, HEAD")
        let overFunctionCap = try shop.request("POST", "/api/noop", body: String(repeating: "a", count: 2048))
        #expect(overFunctionCap.status == 413 && overFunctionCap.errorCode == "payload_too_large")
        let overHostCap = try shop.request("POST", "/api/noop", body: String(repeating: "a", count: 200 * 1024))
        #expect(overHostCap.status == 413 && overHostCap.errorCode == "payload_too_large", "\(overHostCap.text)")
        #expect(overHostCap.headers["content-type"] == "application/json")
    }

    /// The front page and a sale's page for 10 s, a hashed asset for a year, a missing asset
    /// for no time at all; content types and security headers on each.
    func staticSite(_ shop: LiveShop) throws {
        let created = try FlashsaleCommand.run(
            "sale create mug --data \"\(shop.host.data.path)\" --root \"\(shop.project.root)\" --title Mug --price 1299 --stock 3 --starts-in 3600"
        )
        #expect(created.status == 0, "\(created.stderr)")
        for path in ["/", "/s/mug/"] {
            let page = try shop.request("GET", path)
            #expect(page.status == 200, "\(path)")
            #expect(page.headers["content-type"] == "text/html; charset=utf-8")
            #expect(page.headers["cache-control"] == "max-age=10")
            #expect(page.headers["content-security-policy"]?.contains("default-src 'self'") == true)
        }
        let html = try shop.request("GET", "/s/mug/").text
        let script = try #require(html.firstMatch(of: #/src="(/assets/storefront\.[0-9a-f]{10}\.js)"/#)?.output.1)
        let asset = try shop.request("GET", String(script))
        #expect(asset.status == 200)
        #expect(asset.headers["content-type"] == "text/javascript; charset=utf-8")
        #expect(asset.headers["cache-control"] == "max-age=31536000")
        #expect(asset.headers["x-content-type-options"] == "nosniff")
        let missing = try shop.request("GET", "/assets/storefront.0123456789.js")
        #expect(missing.status == 404 && missing.headers["cache-control"] == nil)
    }

    /// Before the start, sale.js names no order URL and precheck says not started; after it,
    /// both say open.
    func saleFlagAndPrecheck(_ shop: LiveShop, later: Sale, now: Sale) throws {
        let early = try shop.request("GET", "/sale/later/sale.js?v=1")
        #expect(early.status == 200 && early.text.contains(#""state":"scheduled""#))
        #expect(early.headers["cache-control"] == "public, max-age=1")
        #expect(!early.text.contains(later.secret))
        #expect(try shop.request("GET", "/api/precheck?sale=later").text == #"{"ok":false,"reason":"not_started"}"#)
        let open = try shop.request("GET", "/sale/now/sale.js?v=1")
        #expect(open.status == 200 && open.text.contains(#""state":"open""#))
        #expect(open.text.contains(#"\/api\/order\/"# + now.secret))
        #expect(try shop.request("GET", "/api/precheck?sale=now").text == #"{"ok":true}"#)
    }

    /// Token, then order, for 40 buyers at once over 12 units: exactly 12 orders, each a row,
    /// and every other buyer told sold out.
    func sellsOutExactly(_ shop: LiveShop) throws {
        let outcomes = Outcomes()
        #expect(
            crowd(40, threads: 8) { index in outcomes.record("u\(index)", try? shop.buy("u\(index)", sale: "race")) })
        let (sale, orders) = try shop.truth("race")
        #expect(orders.count == 12 && sale.remaining == 0, "\(outcomes.histogram)\n\(shop.logTail)")
        #expect(Set(orders.map(\.user)) == Set(outcomes.created.keys))
        #expect(
            outcomes.all.values.filter { $0.status != 201 }.allSatisfy { $0.status == 409 && $0.code == "sold_out" },
            "\(outcomes.histogram)")
        #expect(try shop.request("GET", "/api/precheck?sale=race").text == #"{"ok":false,"reason":"sold_out"}"#)
    }

    /// Every process of `order` killed with SIGKILL: the host (or multiwatch) starts it again,
    /// and the next buyer gets an order.
    func startsAKilledFunctionAgain(_ shop: LiveShop) throws {
        #expect(try shop.buy("before", sale: "again").status == 201)
        let killed = shop.host.functionPIDs("order")
        #expect(!killed.isEmpty)
        killed.forEach { kill($0, SIGKILL) }
        #expect(try shop.buyRetrying("after", sale: "again")?.status == 201, "\(shop.logTail)")
        let now = shop.host.functionPIDs("order")
        #expect(!now.isEmpty && Set(now).isDisjoint(with: killed))
    }

    /// A body no page sends, to token or order.
    struct BadBody: Sendable, CustomStringConvertible {
        var name: String
        var path: String
        var contentType: String
        var body: String
        var status: Int
        var code: String
        var description: String { "\(path) \(name)" }
    }

    /// Bad bodies through real lighttpd and the FastCGI runtime, to functions running the
    /// manifests exactly as shipped in functions/: each gets its JSON error and status, no
    /// process dies, and nothing changes; then the sale still sells.
    @Test func badBodiesGetTheirErrorThroughTheServerAndChangeNothing() throws {
        let site = try HostedSite(.lighttpd, environment: nil)
        for name in try FileManager.default.contentsOfDirectory(atPath: Paths.packageRoot + "/functions") {
            let shipped = FileManager.default.contents(atPath: "\(Paths.packageRoot)/functions/\(name)/function.json")
            let served = FileManager.default.contents(atPath: "\(site.project.root)/functions/\(name)/function.json")
            #expect(shipped != nil && served == shipped, "\(name)'s manifest is not the one shipped")
        }
        let data = site.data
        let now = LiveShop.now()
        let desk = try EmbeddedDesk(databasePath: data.database, segmentPath: data.segment, nowMs: now)
        let sale = try desk.create(
            NewSale(id: "bodies", title: "Bodies", price: 100, stock: 5, startsAt: now, endsAt: nil), nowMs: now)
        let identity = try TokenSigner(secret: try data.keyBytes(data.identityKey)).sign(
            UserClaims(user: "mallory", expires: Date() + 600))
        let orderToken = try TokenSigner(secret: try data.keyBytes(data.secretKey)).sign(
            OrderTokenClaims(user: "mallory", sale: "bodies", expires: Date() + 60))
        let order = "/api/order/\(sale.secret)"
        let json = "application/json"
        // Over each function's shipped cap (token 1024 bytes, order 2048), and well-formed: only
        // the cap refuses it.
        let padding = String(repeating: "x", count: 4096)
        let cases = [
            BadBody(name: "empty", path: "/api/token", contentType: json, body: "", status: 400, code: "bad_request"),
            BadBody(
                name: "malformed", path: "/api/token", contentType: json, body: #"{"sale":"bodies""#, status: 400,
                code: "bad_request"),
            BadBody(
                name: "a number for the sale", path: "/api/token", contentType: json, body: #"{"sale":5}"#,
                status: 400, code: "bad_request"),
            BadBody(
                name: "an array", path: "/api/token", contentType: json, body: #"["bodies"]"#, status: 400,
                code: "bad_request"),
            BadBody(
                name: "oversize", path: "/api/token", contentType: json,
                body: #"{"sale":"bodies","pad":"\#(padding)"}"#, status: 413, code: "payload_too_large"),
            BadBody(
                name: "a form", path: "/api/token", contentType: "application/x-www-form-urlencoded",
                body: "sale=bodies", status: 400, code: "bad_request"),
            BadBody(name: "empty", path: order, contentType: json, body: "", status: 400, code: "bad_request"),
            BadBody(
                name: "malformed", path: order, contentType: json, body: #"{"sale":"bodies","token":"#, status: 400,
                code: "bad_request"),
            BadBody(
                name: "a number for the token", path: order, contentType: json, body: #"{"sale":"bodies","token":7}"#,
                status: 400, code: "bad_request"),
            BadBody(
                name: "no token", path: order, contentType: json, body: #"{"sale":"bodies"}"#, status: 400,
                code: "bad_request"),
            BadBody(
                name: "oversize", path: order, contentType: json,
                body: #"{"sale":"bodies","token":"\#(orderToken)","pad":"\#(padding)"}"#, status: 413,
                code: "payload_too_large"),
            BadBody(
                name: "a form", path: order, contentType: "application/x-www-form-urlencoded",
                body: "sale=bodies&token=\(orderToken)", status: 400, code: "bad_request"),
        ]
        let processes = ["token", "order"].map { site.functionPIDs($0) }
        #expect(processes.allSatisfy { !$0.isEmpty })
        let slot = try StockSegment(path: data.segment, databaseID: desk.store.databaseID).slot(at: sale.slot)
        let state = { () throws -> String in
            let row = try #require(try desk.store.sale("bodies"))
            let orders = try desk.store.orders(ofSale: "bodies").map(\.user)
            return "remaining \(row.remaining) version \(row.version) orders \(orders) slot \(slot.remaining)"
                + " configured \(slot.terms() != nil) sold out \(slot.isSoldOut)"
                + " counted \(slot.count(.admissions)) admissions \(slot.count(.orders)) orders"
        }
        // A good request first (a precheck), so that the bad ones find the sale as it must stay.
        _ = try HTTPClient.request(port: site.port, target: "/api/precheck?sale=bodies")
        let before = try state()
        #expect(before.hasPrefix("remaining 5 version 0 orders [] slot 5 configured true"), "\(before)")
        for bad in cases {
            let answer = try HTTPClient.request(
                port: site.port, method: "POST", target: bad.path,
                headers: ["Authorization": "Bearer \(identity)", "Content-Type": bad.contentType],
                body: Array(bad.body.utf8))
            #expect(answer.status == bad.status && answer.errorCode == bad.code, "\(bad): \(answer.text)")
            #expect(answer.headers["content-type"] == "application/json", "\(bad)")
        }
        #expect(try state() == before)
        #expect(["token", "order"].map { site.functionPIDs($0) } == processes, "a function process died")

        // The sale still sells, to the same buyer, through the same processes.
        let token = try HTTPClient.request(
            port: site.port, method: "POST", target: "/api/token",
            headers: ["Authorization": "Bearer \(identity)", "Content-Type": json],
            body: Array(#"{"sale":"bodies"}"#.utf8))
        #expect(token.status == 200, "\(token.text)")
        let issued = try #require(try token.json()["token"] as? String)
        let bought = try HTTPClient.request(
            port: site.port, method: "POST", target: order,
            headers: ["Authorization": "Bearer \(identity)", "Content-Type": json],
            body: Array(#"{"sale":"bodies","token":"\#(issued)"}"#.utf8))
        #expect(bought.status == 201, "\(bought.text)\n\(site.logTail)")
        #expect(try desk.store.orders(ofSale: "bodies").map(\.user) == ["mallory"])
    }
}
