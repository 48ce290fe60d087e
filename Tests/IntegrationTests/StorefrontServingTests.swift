import Basics
import Foundation
import Hosting
import Store
import TestSupport
import Testing

/// The storefront through real lighttpd: published pages, their cache rules, the demo's guest
/// identities and the CDN export, each as an operator runs them.
@Suite struct StorefrontServingTests {
    static let root = "--root \"\(Paths.packageRoot)\""

    @Test func aSaleCreatedWhileServingHasItsPageAndEachPathItsCacheRule() throws {
        let serve = try ServeProcess()
        let created = try FlashsaleCommand.run(
            "sale create mug --data \"\(serve.data.path)\" \(Self.root) --title 'Mug & co' --price 1299 --stock 3 --starts-in 60"
        )
        #expect(created.status == 0, "\(created.stderr)")

        let secret = try #require(try SQLiteSaleStore(path: serve.data.database).sale("mug")?.secret)
        let published = try #require(FileManager.default.subpaths(atPath: serve.data.site))
        #expect(published.contains("s/mug/index.html"))
        for path in published {
            let bytes = FileManager.default.contents(atPath: "\(serve.data.site)/\(path)") ?? Data()
            #expect(!String(decoding: bytes, as: UTF8.self).contains(secret), "\(path) holds the order secret")
        }
        let page = try HTTPClient.request(port: serve.port, target: "/s/mug/")
        #expect(page.status == 200)
        #expect(page.headers["content-type"] == "text/html; charset=utf-8")
        #expect(page.headers["cache-control"] == "max-age=10")
        #expect(page.headers["content-security-policy"]?.contains("default-src 'self'") == true)
        let html = String(decoding: page.body, as: UTF8.self)
        #expect(html.contains("Mug &amp; co") && html.contains("12.99"))
        let script = try #require(html.firstMatch(of: #/src="(/assets/storefront\.[0-9a-f]{10}\.js)"/#)?.output.1)
        let asset = try HTTPClient.request(port: serve.port, target: String(script))
        #expect(asset.status == 200)
        #expect(asset.headers["content-type"] == "text/javascript; charset=utf-8")
        #expect(asset.headers["cache-control"] == "max-age=31536000")
        // An asset that is not there (yet) gets no lifetime: a CDN must not keep the 404.
        let missing = try HTTPClient.request(port: serve.port, target: "/assets/storefront.0123456789.js")
        #expect(missing.status == 404 && missing.headers["cache-control"] == nil)
        // Pages answer at their folder's URL, with or without a query (the rewrite to index.html).
        for target in ["/s/mug/?utm=mail", "/s/mug/index.html", "/", "/?utm=mail"] {
            let answer = try HTTPClient.request(port: serve.port, target: target)
            #expect(answer.status == 200 && answer.headers["content-type"] == "text/html; charset=utf-8", "\(target)")
        }
        #expect(try HTTPClient.request(port: serve.port, target: "/s/nope/").status == 404)

        // The functions keep their own Cache-Control, with nothing added.
        let flag = try HTTPClient.request(port: serve.port, target: "/sale/mug/sale.js?v=1")
        #expect(flag.status == 200)
        #expect(flag.headers["cache-control"] == "public, max-age=1")
        #expect(try HTTPClient.request(port: serve.port, target: "/api/time").headers["cache-control"] == "no-store")
        #expect(serve.stop() == 0)
    }

    @Test func serveNeverRoutesTheGuestFunction() throws {
        let serve = try ServeProcess()
        let guest = try HTTPClient.request(port: serve.port, method: "POST", target: "/api/guest")
        #expect(guest.status == 404)
        #expect(guest.errorCode == "not_found")
        #expect(serve.functionPIDs("guest").isEmpty)
        #expect(serve.stop() == 0)
    }

    /// `flashsale demo`: a guest identity from the browser's side, a buy once the sale opens,
    /// the order in `flashsale orders demo`; run again, the demo sale starts over.
    @Test func theDemoSellsToAGuestAndStartsOverEachTime() throws {
        let folder = try TemporaryDirectory("demo")
        defer { folder.remove() }
        let data = DataDirectory(path: folder.path + "/var")
        let user = try buyAsAGuest(data: data)
        let orders = try FlashsaleCommand.run("orders demo --data \"\(data.path)\"")
        #expect(orders.stdout.contains(user))

        let demo = try ServeProcess(command: "demo", arguments: ["--starts-in", "30"], data: data)
        let again = try FlashsaleCommand.run("orders demo --data \"\(data.path)\"")
        #expect(again.status == 0 && !again.stdout.contains(user))
        let report = try FlashsaleCommand.run("sale show demo --json --data \"\(data.path)\"")
        let sale = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        #expect(sale["state"] as? String == "scheduled")
        #expect(sale["stock"] as? Int == 5 && sale["remaining"] as? Int == 5 && sale["sold"] as? Int == 0)
        // A second demo, or serve, on the same data directory changes nothing under this one.
        let second = try FlashsaleCommand.run("demo --data \"\(data.path)\" \(Self.root) --port 1")
        #expect(second.status == 1)
        #expect(second.stderr.contains("is already served by another"), "\(second.stderr)")
        let after = try FlashsaleCommand.run("sale show demo --json --data \"\(data.path)\"").stdout
        let unchanged = try #require(try JSONSerialization.jsonObject(with: Data(after.utf8)) as? [String: Any])
        for key in ["version", "remaining", "startsAt"] {
            #expect("\(unchanged[key] ?? "none")" == "\(sale[key] ?? "none")", "\(key)")
        }
        #expect(demo.stop() == 0)
    }

    /// Runs a demo that opens at once with one unit, buys it as a guest, stops; the guest's id.
    private func buyAsAGuest(data: DataDirectory) throws -> String {
        let demo = try ServeProcess(command: "demo", arguments: ["--starts-in", "1", "--stock", "1"], data: data)
        #expect(demo.log.contains("open http://127.0.0.1:\(demo.port)/s/demo/"))
        let guest = try HTTPClient.request(port: demo.port, method: "POST", target: "/api/guest")
        #expect(guest.status == 200)
        let cookie = try #require(guest.headers["set-cookie"]?.split(separator: ";").first.map(String.init))
        let user = try #require(guest.json()["user"] as? String)

        let headers = ["Cookie": cookie, "Content-Type": "application/json"]
        let body = Array(#"{"sale":"demo"}"#.utf8)
        var issued: HTTPAnswer?
        #expect(
            eventually(within: 10) {
                issued = try? HTTPClient.request(
                    port: demo.port, method: "POST", target: "/api/token", headers: headers, body: body)
                return issued?.status == 200
            })
        let token = try #require(try issued?.json())
        let orderUrl = try #require(token["orderUrl"] as? String)
        let order = try HTTPClient.request(
            port: demo.port, method: "POST", target: orderUrl, headers: headers,
            body: Array(try JSONSerialization.data(withJSONObject: ["sale": "demo", "token": token["token"]!])))
        #expect(order.status == 201)
        #expect(demo.stop() == 0)
        return user
    }

    /// An operator's own sale, even one called "demo", is never started over by the demo, nor
    /// does the demo hand out guest identities beside it.
    @Test(arguments: [
        ("demo", "holds a sale \"demo\" that `flashsale demo` did not create"),
        ("mug", "holds the sale \"mug\": the demo runs only in a directory of its own"),
    ])
    func theDemoRefusesADataDirectoryWithAnOperatorsSale(_ id: String, _ message: String) throws {
        let folder = try TemporaryDirectory("demo")
        defer { folder.remove() }
        let data = "--data \"\(folder.path)/var\""
        #expect(try FlashsaleCommand.run("init \(data)").status == 0)
        let created = try FlashsaleCommand.run(
            "sale create \(id) \(data) \(Self.root) --title Real --price 1 --stock 1 --starts-in 5")
        #expect(created.status == 0, "\(created.stderr)")
        let before = try FlashsaleCommand.run("sale list --json \(data)").stdout
        let demo = try FlashsaleCommand.run("demo \(data) \(Self.root) --port 1")
        #expect(demo.status == 1)
        #expect(demo.stderr.contains(message), "\(demo.stderr)")
        #expect(try FlashsaleCommand.run("sale list --json \(data)").stdout == before)
    }

    @Test func exportWritesABundleForTheChosenSalesAndRefusesBadInput() throws {
        let folder = try TemporaryDirectory("export")
        defer { folder.remove() }
        let data = "--data \"\(folder.path)/var\""
        #expect(try FlashsaleCommand.run("init \(data)").status == 0)
        for id in ["mug", "lamp"] {
            let created = try FlashsaleCommand.run(
                "sale create \(id) \(data) \(Self.root) --title \(id) --price 100 --stock 1 --starts-in 60")
            #expect(created.status == 0, "\(created.stderr)")
        }
        let out = folder.path + "/bundle"
        let export = try FlashsaleCommand.run(
            "export \(data) \(Self.root) --out \"\(out)\" --origin https://shop.example.com --sale mug")
        #expect(export.status == 0, "\(export.stderr)")
        #expect(FileManager.default.fileExists(atPath: out + "/s/mug/index.html"))
        #expect(!FileManager.default.fileExists(atPath: out + "/s/lamp/index.html"))
        let redirects = try String(contentsOfFile: out + "/_redirects", encoding: .utf8)
        #expect(redirects.contains("/sale/*  https://shop.example.com/sale/:splat  200"))
        #expect(!redirects.contains("/api/guest"))

        let refused: [(String, String)] = [
            ("--out \"\(folder.path)/b2\" --origin https://shop.example.com --sale nope", "no sale has id \"nope\""),
            ("--out \"\(folder.path)/b3\" --origin shop.example.com", "must be http(s)://host[:port]"),
            ("--out \"\(out)\" --origin https://shop.example.com", "is not empty"),
            ("--out \"\(folder.path)/b4\"", "Missing expected argument '--origin <origin>'"),
        ]
        for (arguments, message) in refused {
            let result = try FlashsaleCommand.run("export \(data) \(Self.root) \(arguments)")
            #expect(result.status != 0)
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/b2"))
    }
}
