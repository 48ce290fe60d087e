import Backends
import Basics
import Challenges
import Foundation
import Hosting
import Identity
import Sales
import Segment
import Store
import Synchronization
import TestSupport
import Testing

/// A running host (`flashsale serve`, or a web server configured by `flashsale config`) with
/// real function processes, seen by buyers over HTTP, with the operator's desk on the same
/// data directory to set sales up and read the truth.
/// `@unchecked Sendable`: buyer threads only read the host's port and send HTTP requests and
/// sign tokens (Sendable); the desk and the host are used from the test's own thread alone.
final class LiveShop: @unchecked Sendable {
    let project: ProjectCopy
    let host: any RunningHost
    let desk: HostDesk
    let identitySigner: TokenSigner
    let orderSigner: TokenSigner

    /// Functions reconcile every 200 ms here, and admit a million buyers per unit left (the cap
    /// shrinks with the stock, and 2,000 buyers in one window would meet a smaller one), so races
    /// measure the order path rather than the admission cap.
    /// A process killed holding an account's lease locks that buyer out for one lease: 1 s,
    /// within what buyRetrying waits.
    static let environment = [
        "FLASHSALE_ADMISSION_MULTIPLE": "1000000", "FLASHSALE_RECONCILE_INTERVAL_MS": "200",
        "FLASHSALE_ACCOUNT_LEASE_MS": "1000",
    ]

    /// `flashsale serve`.
    convenience init(environment: [String: String] = [:]) throws {
        let project = try ProjectCopy(environment: Self.environment.merging(environment) { $1 })
        try self.init(project: project, host: try ServeProcess(root: project.root))
    }

    /// `flashsale serve` over a data directory whose store is the PostgreSQL database at `url`
    /// (`flashsale init --store`) and whose gate keeps its tables in the Redis at `gate` (`--gate`)
    /// or, without it, in the directory's stock segment, which holds the stock either way.
    convenience init(store url: String, gate: String? = nil, environment: [String: String] = [:]) throws {
        let project = try ProjectCopy(environment: Self.environment.merging(environment) { $1 })
        let data = DataDirectory(path: project.root + "/var")
        try Self.initialise(data, store: url, gate: gate)
        try self.init(project: project, host: try ServeProcess(root: project.root, data: data))
    }

    /// `flashsale init` of `data` with `store` and `gate`.
    static func initialise(_ data: DataDirectory, store: String, gate: String?) throws {
        let initialised = try FlashsaleCommand.run(
            "init --data \(data.path) --store '\(store)'" + (gate.map { " --gate '\($0)'" } ?? ""))
        try #require(initialised.status == 0, "flashsale init failed: \(initialised.stderr)")
    }

    /// The web server `kind` configured by `flashsale config`.
    convenience init(_ kind: HostedSite.Kind) throws {
        let site = try HostedSite(kind, environment: Self.environment)
        try self.init(project: site.project, host: site)
    }

    private init(project: ProjectCopy, host: any RunningHost) throws {
        (self.project, self.host) = (project, host)
        let data = host.data
        desk = try HostDesk(data: data, nowMs: Self.now())
        identitySigner = TokenSigner(secret: try data.keyBytes(data.identityKey))
        orderSigner = TokenSigner(secret: try data.keyBytes(data.secretKey))
    }

    deinit {
        project.directory.remove()
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    @discardableResult
    func createSale(_ id: String, stock: Int64, startsInMs: Int64 = 0, perIPRate: Int64 = 0) throws -> Sale {
        try desk.create(
            NewSale(
                id: id, title: id, price: 100, stock: stock, startsAt: Self.now() + startsInMs, endsAt: nil,
                perIPRate: perIPRate),
            nowMs: Self.now())
    }

    func identity(_ user: String) throws -> [String: String] {
        ["Authorization": "Bearer \(try identitySigner.sign(UserClaims(user: user, expires: Date() + 600)))"]
    }

    /// `headers` are added to the identity's (an `X-Forwarded-For`, say).
    func request(
        _ method: String, _ target: String, user: String? = nil, body: String = "", headers: [String: String] = [:]
    ) throws -> HTTPAnswer {
        try HTTPClient.request(
            port: host.port, method: method, target: target,
            headers: (try user.map(identity) ?? [:]).merging(headers) { $1 }, body: Array(body.utf8))
    }

    func askToken(_ user: String, sale: String, headers: [String: String] = [:]) throws -> HTTPAnswer {
        try request("POST", "/api/token", user: user, body: #"{"sale":"\#(sale)"}"#, headers: headers)
    }

    func order(
        _ user: String, path: String, sale: String, token: String, headers: [String: String] = [:]
    ) throws -> HTTPAnswer {
        try request("POST", path, user: user, body: #"{"sale":"\#(sale)","token":"\#(token)"}"#, headers: headers)
    }

    /// A buyer's whole path: a token, then the order; the last answer.
    func buy(_ user: String, sale: String, headers: [String: String] = [:]) throws -> HTTPAnswer {
        let token = try askToken(user, sale: sale, headers: headers)
        guard token.status == 200, let issued = try? token.json(), let url = issued["orderUrl"] as? String,
            let value = issued["token"] as? String
        else { return token }
        return try order(user, path: url, sale: sale, token: value, headers: headers)
    }

    /// A buyer who tries again, as the page does, while the server answers 5xx (a function
    /// process killed, lighttpd restarting it) or nothing; the last answer.
    func buyRetrying(_ user: String, sale: String, attempts: Int = 200) throws -> HTTPAnswer? {
        var answer: HTTPAnswer?
        for _ in 0..<attempts {
            answer = try? buy(user, sale: sale)
            if let status = answer?.status, status < 500 { return answer }
            usleep(20_000)  // the client's pause before trying again, not a wait for the server
        }
        return answer
    }

    /// The last lines lighttpd and the functions logged, for failure messages.
    var logTail: String {
        host.logFiles.map { path in
            let lines = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
            return "\(path):\n" + lines.suffix(15).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    /// The truth: the store's row and orders.
    func truth(_ sale: String) throws -> (sale: Sale, orders: [Order]) {
        (try #require(try desk.store.sale(sale)), try desk.store.orders(ofSale: sale))
    }

    /// The slot as a fresh mapping of the segment file sees it.
    func slot(_ sale: Sale) throws -> SaleSlot {
        try StockSegment(path: host.data.segment, databaseID: desk.store.databaseID).slot(at: sale.slot)
    }
}

/// Checks what every sale must end with: no oversell, one order per user, every 201 a row.
func expectConsistent(_ shop: LiveShop, _ id: String, outcomes: Outcomes) throws {
    let (sale, orders) = try shop.truth(id)
    #expect(orders.count == Int(sale.stock - sale.remaining))
    #expect(orders.count <= Int(sale.stock))
    #expect(Set(orders.map(\.user)).count == orders.count)
    let rows = Dictionary(uniqueKeysWithValues: orders.map { ($0.id, $0.user) })
    for (user, outcome) in outcomes.created {
        #expect(outcome.orderUser == user)
        #expect(outcome.orderID.flatMap { rows[$0] } == user, "the 201 for \(user) has no row")
    }
}

/// What a crowd of buyers was answered: user → (status, error code or the order's user).
final class Outcomes: Sendable {
    struct Outcome: Sendable {
        var status: Int
        var code: String?
        var orderUser: String?
        var orderID: Int64?
    }

    private let table = Mutex([String: Outcome]())

    func record(_ user: String, _ answer: HTTPAnswer?) {
        let json = try? answer?.json()
        let outcome = Outcome(
            status: answer?.status ?? 0, code: answer?.errorCode, orderUser: json?["user"] as? String,
            orderID: (json?["orderId"] as? NSNumber)?.int64Value)
        table.withLock { $0[user] = outcome }
    }

    var all: [String: Outcome] { table.withLock { $0 } }

    var created: [String: Outcome] { all.filter { $0.value.status == 201 } }

    /// How many answers had each status and code, for failure messages.
    var histogram: [String: Int] {
        all.values.reduce(into: [:]) { counts, outcome in
            counts["\(outcome.status) \(outcome.code ?? "")", default: 0] += 1
        }
    }
}

/// Runs `buyer(i)` for every i in 0..<count on `threads` threads.
func crowd(_ count: Int, threads: Int = 32, within seconds: Double = 120, _ buyer: @escaping @Sendable (Int) -> Void)
    -> Bool
{
    onThreads(threads, within: seconds) { thread in
        for index in stride(from: thread, to: count, by: threads) { buyer(index) }
    }
}

extension LiveShop {
    /// The answer to a question challenge, found as only the holder of the secret can: a
    /// generated question's answer is a number up to 200 or a word of the question, an
    /// operator's one of `own`, and the challenge's digest tells which.
    func solve(challenge: String, question: String, own: [String] = []) throws -> String {
        let claims = try orderSigner.verify(challenge, as: CaptchaClaims.self)
        let digests = AnswerDigest(secret: try host.data.keyBytes(host.data.secretKey))
        let words = question.split { !$0.isLetter && $0 != "-" }.map(String.init)
        return try #require(
            ((0...200).map(String.init) + words + own).first {
                digests.matches(claims.digest ?? "", challenge: claims.jti, answer: $0)
            })
    }

    /// An order token signed like the token function's, for a moment or user it would refuse.
    func mintOrderToken(user: String, sale: String, expiresIn seconds: Double = 30) throws -> String {
        try orderSigner.sign(OrderTokenClaims(user: user, sale: sale, expires: Date() + seconds))
    }
}

/// Tokens signed with a key that is not the installation's.
enum TokenSignerFixture {
    static func forged(user: String, sale: String) throws -> String {
        try TokenSigner(secret: Array(repeating: 0x42, count: 32)).sign(
            OrderTokenClaims(user: user, sale: sale, expires: Date() + 60))
    }
}
