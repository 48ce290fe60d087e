import Backends
import Basics
import FastCGI
import Foundation
import HTTPTypes
import Hosting
import Identity
import Sales
import Segment
import Store
import Synchronization
import TestSupport
import Testing

@testable import Buying

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let now: Mutex<Int64>

    init(_ start: Int64) {
        now = Mutex(start)
    }

    var ms: Int64 { now.withLock { $0 } }

    func advance(by milliseconds: Int64) {
        now.withLock { $0 += milliseconds }
    }
}

/// One data directory with the three buying functions running in this process, on a clock the
/// test moves, and the operator's desk to set sales up and look at the truth.
/// `@unchecked Sendable`: other threads only call the functions, which serialise themselves;
/// the desk is used from the test's own thread alone.
final class Shop: @unchecked Sendable {
    let directory: TemporaryDirectory
    let data: DataDirectory
    let clock: ManualClock
    let desk: EmbeddedDesk
    let context: BuyingContext
    let token: Function
    let precheck: Function
    let order: Function
    let saleFlag: Function
    let captcha: Function
    let identitySigner: TokenSigner
    let orderSigner: TokenSigner

    init(admissionMultiple: Int64 = 10, reconcileIntervalMs: Int64 = 3_600_000) throws {
        directory = try TemporaryDirectory("shop")
        data = DataDirectory(path: directory.path + "/var")
        try data.initialize()
        clock = ManualClock(Int64(Date().timeIntervalSince1970 * 1000))
        desk = try EmbeddedDesk(databasePath: data.database, segmentPath: data.segment, nowMs: clock.ms)
        let settings = BuyingSettings(
            dataDirectory: data.path, admissionMultiple: admissionMultiple, reconcileIntervalMs: reconcileIntervalMs)
        let clock = clock
        context = try BuyingContext(settings: settings) { clock.ms }
        token = TokenFunction.function(context)
        precheck = PrecheckFunction.function(context)
        order = OrderFunction.function(context)
        saleFlag = SaleFlagFunction.function(context)
        captcha = CaptchaFunction.function(context)
        identitySigner = TokenSigner(secret: try data.keyBytes(data.identityKey))
        orderSigner = TokenSigner(secret: try data.keyBytes(data.secretKey))
    }

    deinit {
        directory.remove()
    }

    /// Creates a sale that starts `startsInMs` from the test's now.
    @discardableResult
    func createSale(
        _ id: String, stock: Int64, startsInMs: Int64 = 0, endsInMs: Int64? = nil, perIPRate: Int64 = 0,
        minLevel: Int64 = 0, captcha: CaptchaMode = .off, questions: [SaleQuestion] = [], powBits: Int64 = 0
    ) throws -> Sale {
        let now = clock.ms
        return try desk.create(
            NewSale(
                id: id, title: "Sale \(id)", price: 100, stock: stock, startsAt: now + startsInMs,
                endsAt: endsInMs.map { now + $0 }, perIPRate: perIPRate, minLevel: minLevel, captcha: captcha,
                questions: questions, powBits: powBits), nowMs: now)
    }

    func identity(_ user: String) throws -> String {
        try identitySigner.sign(UserClaims(user: user, expires: Date().addingTimeInterval(600)))
    }

    func headers(_ user: String?) throws -> HTTPFields {
        guard let user else { return [:] }
        return [.authorization: "Bearer \(try identity(user))"]
    }

    /// What `function` answers `request`, as the runtime would send it.
    func call(_ function: Function, _ request: Request) -> Response {
        let response = function.respond(to: request)
        if response.status == .internalServerError {
            Issue.record("\(function.name) failed: \(String(decoding: response.body, as: UTF8.self))")
        }
        return response
    }

    /// Asks this process's token function, or `function` (another process's, say).
    func askToken(
        _ user: String?, sale: String, from address: String = "127.0.0.1", via function: Function? = nil
    ) throws -> Response {
        let body = Array(#"{"sale":"\#(sale)"}"#.utf8)
        return call(
            function ?? token,
            Request(
                method: .post, path: "/api/token", headers: try headers(user), remoteAddress: address, body: body))
    }

    func askPrecheck(_ sale: String) -> Response {
        call(precheck, Request(method: .get, path: "/api/precheck", query: Query([.init(name: "sale", value: sale)])))
    }

    func placeOrder(
        _ user: String?, path: String, sale: String, token: String, from address: String = "127.0.0.1"
    ) throws -> Response {
        let body = try JSONSerialization.data(withJSONObject: ["sale": sale, "token": token])
        return call(
            order,
            Request(
                method: .post, path: path, headers: try headers(user), remoteAddress: address, body: Array(body)))
    }

    /// Gets a token through the token function and orders with it.
    func buy(_ user: String, sale: String) throws -> Response {
        let answer = try askToken(user, sale: sale)
        guard answer.status == .ok else { return answer }
        let issued = try JSONDecoder().decode(TokenFunction.Answer.self, from: Data(answer.body))
        return try placeOrder(user, path: issued.orderUrl, sale: sale, token: issued.token)
    }

    /// Runs `body` on the SQLite store the functions hold (not the desk's own connection).
    func withFunctionsStore(_ body: (SQLiteSaleStore) throws -> Void) throws {
        try context.inSession { session in try body(try #require(session.store as? SQLiteSaleStore)) }
    }

    /// The admission window of `sale` now.
    func window(of sale: String) -> Int64 {
        context.windows.window(sale: sale, nowMs: clock.ms)
    }

    /// Moves the clock to the first millisecond of `sale`'s next admission window.
    func advanceToNextWindow(of sale: String) {
        clock.advance(by: context.windows.start(of: window(of: sale) + 1, sale: sale) - clock.ms)
    }

    /// Moves the clock to `leftMs` before the end of `sale`'s next admission window.
    func advanceToEndOfNextWindow(of sale: String, leftMs: Int64) {
        clock.advance(by: context.windows.start(of: window(of: sale) + 2, sale: sale) - leftMs - clock.ms)
    }

    /// An order token signed like the token function's, for a sale or moment it would refuse.
    func mintOrderToken(user: String, sale: String, expiresInSeconds: Double = 30) throws -> String {
        try orderSigner.sign(
            OrderTokenClaims(user: user, sale: sale, expires: Date().addingTimeInterval(expiresInSeconds)))
    }

    /// Everything a refused request must leave as it was: SQLite's row (remaining, version) and
    /// orders; the slot's configuration, remaining, sold-out flag and counted orders and
    /// admissions; and the admissions of the current window. (The slot's refusal counters and
    /// its reconciliation time are meant to move.)
    struct Snapshot: Equatable, CustomStringConvertible {
        var remaining: Int64
        var version: Int64
        var orders: [Order]
        var configuration: StockTerms?
        var slotRemaining: Int64
        var soldOut: Bool
        var ordersCounted: Int64
        var admissionsCounted: Int64
        var admissionsInWindow: Int64

        var description: String {
            "remaining \(remaining) version \(version) orders \(orders.map(\.user)) slot \(slotRemaining)"
                + (soldOut ? " sold out" : "") + " configured \(configuration != nil) counted \(ordersCounted) orders"
                + " \(admissionsCounted) admissions, \(admissionsInWindow) in the window"
        }
    }

    func snapshot(of sale: String) throws -> Snapshot {
        let (row, orders, slot) = try state(of: sale)
        let window = SaleChecks.gateWindow(self.window(of: sale))
        return Snapshot(
            remaining: row.remaining, version: row.version, orders: orders, configuration: slot.terms(),
            slotRemaining: slot.remaining, soldOut: slot.isSoldOut, ordersCounted: slot.count(.orders),
            admissionsCounted: slot.count(.admissions), admissionsInWindow: slot.admissions(inWindow: window))
    }

    /// The truth and the gate: SQLite's sale row and orders, and the segment slot as a fresh
    /// mapping (another process) sees it.
    func state(of sale: String) throws -> (sale: Sale, orders: [Order], slot: SaleSlot) {
        let row = try #require(try desk.store.sale(sale))
        let segment = try StockSegment(path: data.segment, databaseID: desk.store.databaseID)
        return (row, try desk.store.orders(ofSale: sale), segment.slot(at: row.slot))
    }
}

extension Response {
    var errorCode: String? {
        (try? JSONDecoder().decode(ErrorBody.self, from: Data(body)))?.error.code.rawValue
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object (empty when it is none).
    var jsonObject: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }
}
