import Basics
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

    /// Sends a byte on each of `clients`' connections every half second, asking as `buyer`
    /// each time, until the server has closed them all; expects that none outlived the read
    /// timeout by more than 10 s, that they lasted at least the read timeout since `opened`,
    /// and that the buyer was answered every time.
    func expectTrickledHeadersCut(
        _ clients: SlowClients, opened: Date, readSeconds: Int, buyer: Buyer,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let cut = eventually(within: Double(readSeconds) + 10) {
            clients.send("X")
            buyer.ask()
            usleep(500_000)
            return clients.stillOpen() == 0
        }
        #expect(cut, "\(clients.stillOpen()) trickling connections still open", sourceLocation: sourceLocation)
        #expect(Date().timeIntervalSince(opened) >= Double(readSeconds), sourceLocation: sourceLocation)
        #expect(
            buyer.asked > 0 && buyer.answered == buyer.asked, "\(buyer.answered) of \(buyer.asked) answered",
            sourceLocation: sourceLocation)
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
        expectTrickledHeadersCut(clients, opened: opened, readSeconds: Self.readSeconds, buyer: buyer)
        #expect(serve.stop() == 0)
        #expect(serve.log.contains("over \(Self.cap) per address (\(Self.attacker) held"), "\(serve.log)")
    }

    /// A request in whole waiting for its answer (its function stopped, as a busy database or
    /// a full FastCGI queue would keep it) sends nothing more: the guard leaves it alone, and
    /// a keep-alive buyer's next request too, however long they wait; a client trickling a
    /// header beside them is still cut.
    @Test func aRequestWaitingForItsAnswerIsNotCutButATricklerIs() throws {
        let readSeconds = 2
        let serve = try ServeProcess(
            arguments: ["--connections-per-address", String(Self.cap), "--read-timeout", String(readSeconds)])
        let functions = serve.functionPIDs("time")
        try #require(!functions.isEmpty)
        let ask = Array("GET /api/time HTTP/1.1\r\nHost: shop\r\n\r\n".utf8)
        let buyer = try SocketStream(port: serve.port, timeoutSeconds: 60)
        try buyer.write(ask)
        #expect(try buyer.readAnswer().status == 200)
        functions.forEach { kill($0, SIGSTOP) }
        defer { functions.forEach { kill($0, SIGCONT) } }
        let waiting = try SocketStream(port: serve.port, timeoutSeconds: 60)
        try waiting.write(ask)
        try buyer.write(ask)
        let asked = Date()
        let trickler = try SlowClients(count: 1, from: Self.attacker, port: serve.port)
        trickler.send(Self.firstLine)
        let cut = eventually(within: Double(readSeconds) + 20) {
            trickler.send("X")
            usleep(500_000)
            return trickler.stillOpen() == 0 && Date().timeIntervalSince(asked) > Double(3 * readSeconds)
        }
        #expect(cut, "the trickler is still open")
        functions.forEach { kill($0, SIGCONT) }
        #expect(try waiting.readAnswer().status == 200)
        #expect(try buyer.readAnswer().status == 200)
        #expect(serve.stop() == 0)
        #expect(serve.log.contains("and 1 still sending a request unanswered after 2 s"), "\(serve.log)")
    }

    /// An IPv6 client's connections count against its /64, whichever of its addresses they
    /// come from; on loopback, ::1 is one address of ::/64.
    @Test func anIPv6ClientIsCutToTheCapOfItsSlash64() throws {
        let serve = try ServeProcess(
            host: "::1",
            arguments: ["--connections-per-address", String(Self.cap), "--read-timeout", String(Self.readSeconds)])
        let clients = try SlowClients(count: Self.cap * 3, from: "::1", to: "::1", port: serve.port)
        clients.send(Self.firstLine)
        let capped = eventually(within: 10) { clients.stillOpen() <= Self.cap }
        #expect(capped, "\(clients.stillOpen()) of the client's connections still open")
        #expect(clients.stillOpen() == Self.cap)
        #expect(serve.stop() == 0)
        #expect(serve.log.contains("over \(Self.cap) per address (::/64 held"), "\(serve.log)")
    }

    /// A guard that cannot reach lighttpd (here its pid file names no process) says why once,
    /// with the call and its errno, claims no closing, and closes again once it can.
    @Test func aGuardThatCannotCloseSaysWhyOnceAndClaimsNothing() throws {
        let serve = try serve()
        let pidFile = serve.data.lighttpdPidFile
        let lighttpd = try String(contentsOfFile: pidFile, encoding: .utf8)
        try "999999999\n".write(toFile: pidFile, atomically: true, encoding: .utf8)
        let clients = try SlowClients(count: Self.cap * 2, from: Self.attacker, port: serve.port)
        clients.send(Self.firstLine)
        let said = eventually(within: 10) {
            clients.send("X")
            usleep(200_000)
            return serve.log.contains("connection guard: pidfd_open failed")
        }
        #expect(said, "\(serve.log)")
        #expect(clients.stillOpen() == Self.cap * 2)
        try lighttpd.write(toFile: pidFile, atomically: true, encoding: .utf8)
        let capped = eventually(within: 10) {
            clients.send("X")
            usleep(200_000)
            return clients.stillOpen() <= Self.cap
        }
        #expect(capped, "\(clients.stillOpen()) of the client's connections still open")
        #expect(serve.stop() == 0)
        #expect(serve.log.components(separatedBy: "pidfd_open failed").count == 2, "\(serve.log)")
        #expect(serve.log.contains("closed \(Self.cap) connections over \(Self.cap) per address"), "\(serve.log)")
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
        expectTrickledHeadersCut(
            headers, opened: opened, readSeconds: ConnectionLimits.defaultReadSeconds, buyer: buyer)
    }

    /// Apache with `flashsale config apache`'s mod_reqtimeout: a header trickled a byte at a
    /// time is cut after the read timeout (Apache has no per-address cap: docs/deploy.md).
    @Test func apacheCutsTrickledHeaders() throws {
        let site = try HostedSite(.apache)
        let buyer = Buyer(port: site.port)
        let headers = try SlowClients(count: 200, from: Self.attacker, port: site.port)
        let opened = Date()
        headers.send(Self.firstLine)
        expectTrickledHeadersCut(
            headers, opened: opened, readSeconds: ConnectionLimits.defaultReadSeconds, buyer: buyer)
    }
}
