import Foundation
import Hosting
import TestSupport
import Testing

/// One client holding thousands of connections that send a request's first line and then
/// trickle a byte now and then, against `flashsale serve` for real: its connections beyond
/// the per-address cap are closed at once, the rest once the read timeout has passed
/// (lighttpd's own idle timer starts again with each byte), and a buyer at another address
/// is answered all along; then nginx's and Apache's configurations against the same.
@Suite(.serialized) struct SlowClientTests {
    static let cap = 64
    static let readSeconds = 5
    static let attacker = "127.0.0.2"
    static let firstLine = "GET /api/time HTTP/1.1\r\nHost: shop\r\n"

    func serve(root: String = Paths.packageRoot) throws -> ServeProcess {
        try ServeProcess(
            root: root,
            arguments: ["--connections-per-address", String(Self.cap), "--read-timeout", String(Self.readSeconds)])
    }

    /// Counts a buyer's `GET /api/time` from 127.0.0.1, answered 200 within SocketStream's 10 s or not.
    final class Buyer {
        let port: Int
        var asked = 0
        var answered = 0

        init(port: Int) { self.port = port }

        func ask() {
            asked += 1
            if (try? HTTPClient.request(port: port, target: "/api/time"))?.status == 200 { answered += 1 }
        }
    }

    @Test func aClientIsCutToTheCapThenToTheReadTimeoutWhileABuyerIsAnswered() throws {
        let serve = try serve()
        let buyer = Buyer(port: serve.port)
        let clients = try SlowClients(count: 3_000, from: Self.attacker, port: serve.port)
        let opened = Date()
        clients.send(Self.firstLine)
        let capped = eventually(within: 10) {
            buyer.ask()
            return clients.stillOpen() <= Self.cap
        }
        #expect(capped, "\(clients.stillOpen()) of the client's connections still open")
        #expect(clients.stillOpen() == Self.cap, "the oldest \(Self.cap) are kept until the read timeout")
        // A byte every half second keeps lighttpd's idle timer from firing; the guard's
        // deadline still closes every one, and not before it.
        let cut = eventually(within: Double(Self.readSeconds) + 10) {
            clients.send("X")
            buyer.ask()
            usleep(500_000)
            return clients.stillOpen() == 0
        }
        #expect(cut, "\(clients.stillOpen()) trickling connections still open")
        #expect(Date().timeIntervalSince(opened) >= Double(Self.readSeconds))
        #expect(buyer.asked > 0 && buyer.answered == buyer.asked, "\(buyer.answered) of \(buyer.asked) answered")
        #expect(serve.stop() == 0)
        #expect(serve.log.contains("over \(Self.cap) per address (\(Self.attacker) held"), "\(serve.log)")
    }

    /// A trusted proxy (FLASHSALE_TRUSTED_PROXIES) brings many buyers' connections: it is not
    /// capped, though the read timeout still applies to it.
    @Test func aTrustedProxyIsNotCappedButTimedOut() throws {
        let project = try ProjectCopy(environment: ["FLASHSALE_TRUSTED_PROXIES": Self.attacker])
        defer { project.remove() }
        let serve = try serve(root: project.root)
        let clients = try SlowClients(count: Self.cap * 3, from: Self.attacker, port: serve.port)
        let opened = Date()
        clients.send(Self.firstLine)
        var firstClosed: Date?
        let cut = eventually(within: Double(Self.readSeconds) + 10) {
            let open = clients.stillOpen()
            if open < Self.cap * 3 && firstClosed == nil { firstClosed = Date() }
            return open == 0
        }
        #expect(cut, "\(clients.stillOpen()) connections still open")
        let lasted = try #require(firstClosed).timeIntervalSince(opened)
        #expect(lasted >= Double(Self.readSeconds) - 0.5, "the first was closed after \(lasted) s")
        #expect(serve.stop() == 0)
    }

    /// nginx with `flashsale config nginx`'s defaults (128 per address, 10 s): a client's
    /// requests beyond the cap are refused once their headers are in, and headers trickled
    /// a byte at a time are cut at the header deadline, which bytes do not restart.
    @Test func nginxCapsRequestsInHandAndCutsTrickledHeaders() throws {
        let site = try HostedSite(.nginx)
        let buyer = Buyer(port: site.port)
        let bodiesDue = try SlowClients(count: 300, from: Self.attacker, port: site.port)
        bodiesDue.send("POST /api/token HTTP/1.1\r\nHost: shop\r\nContent-Length: 1000\r\n\r\n")
        let capped = eventually(within: 10) {
            buyer.ask()
            return bodiesDue.stillOpen() <= ConnectionLimits.defaultPerAddress
        }
        #expect(capped, "\(bodiesDue.stillOpen()) of 300 still open")
        #expect(bodiesDue.stillOpen() == ConnectionLimits.defaultPerAddress, "the rest wait for their bodies")
        let headers = try SlowClients(count: 200, from: "127.0.0.3", port: site.port)
        let opened = Date()
        headers.send(Self.firstLine)
        let cut = eventually(within: Double(ConnectionLimits.defaultReadSeconds) + 10) {
            headers.send("X")
            buyer.ask()
            usleep(500_000)
            return headers.stillOpen() == 0
        }
        #expect(cut, "\(headers.stillOpen()) trickling connections still open")
        #expect(Date().timeIntervalSince(opened) >= Double(ConnectionLimits.defaultReadSeconds))
        #expect(buyer.asked > 0 && buyer.answered == buyer.asked, "\(buyer.answered) of \(buyer.asked) answered")
    }

    /// Apache with `flashsale config apache`'s mod_reqtimeout: a header trickled a byte at a
    /// time is cut after the read timeout (Apache has no per-address cap: docs/deploy.md).
    @Test func apacheCutsTrickledHeaders() throws {
        let site = try HostedSite(.apache)
        let buyer = Buyer(port: site.port)
        let headers = try SlowClients(count: 200, from: Self.attacker, port: site.port)
        let opened = Date()
        headers.send(Self.firstLine)
        let cut = eventually(within: Double(ConnectionLimits.defaultReadSeconds) + 10) {
            headers.send("X")
            buyer.ask()
            usleep(500_000)
            return headers.stillOpen() == 0
        }
        #expect(cut, "\(headers.stillOpen()) trickling connections still open")
        #expect(Date().timeIntervalSince(opened) >= Double(ConnectionLimits.defaultReadSeconds))
        #expect(buyer.asked > 0 && buyer.answered == buyer.asked, "\(buyer.answered) of \(buyer.asked) answered")
    }
}
