import FastCGI
import Foundation
import Identity
import Sales

/// `POST /api/order/<secret>` with `{"sale":"ID","token":"…"}` → 201 `{"orderId":…,"sale":…,"user":…}`.
///
/// Checks, in this order, each refusal changing nothing: the secret (a wrong one is the same
/// 404 as any unknown path); three cheap refusals before any signature check, the sale's state
/// (`not_started`, `ended` and `sold_out` are public: precheck tells anyone, so the crowd that
/// arrives after the sell-out is answered from the gate without two signature checks), the
/// per-node `BusyGate` (503 `busy` when too many requests queue behind this one) and the client
/// address's rate (429 `rate_limited`); then the identity, the body and the order token (this
/// user's, this sale's, unexpired); then, holding the account's lease (a second request of the
/// same account meanwhile is `busy` at once), an earlier order by the same user. Only then is
/// a unit taken from the gate, and the order committed by the backend in a group with the
/// orders of every process waiting at the same time (``BackendSession/placeOrder(_:)``: in
/// SQLite, one transaction of a conditional inventory update for the group and the inserts,
/// and one sync); 201 comes after the sync that covers the order, and every failure after the
/// take returns the unit, unless the order may have been committed all the same.
public enum OrderFunction {
    static let prefix = "/api/order/"
    static let busy = Refusal.fixed(
        .busy, "too many orders are waiting on this server; retry in a second", retryAfterSeconds: 1)

    struct Body: Decodable {
        var sale: String
        var token: String
    }

    /// What a buyer gets once the order is committed.
    public struct Answer: Codable, Sendable, Equatable {
        public var orderId: Int64
        public var sale: String
        public var user: String
    }

    /// The order URL of a sale with `secret`.
    public static func orderPath(secret: String) -> String { prefix + secret }

    /// The order function, serving `/api/order/<secret>` with the process's `context`. Under a
    /// web server that passes the listening socket as fd 0 (lighttpd, spawn-fcgi), a door
    /// beside it answers the connections beyond the queue limit with 503 `busy` at once
    /// (``ListenQueue/Door``); the in-line `BusyGate` is for a socket the door
    /// cannot watch, or once the door has closed: with the door open it would refuse again the
    /// requests the door let in.
    public static func function(_ context: BuyingContext) -> Function {
        function(context, door: openDoor(limit: Int(context.settings.orderQueueLimit)))
    }

    /// The order function beside `door` (nil: none), which each request asks whether it is
    /// still open.
    static func function(_ context: BuyingContext, door: ListenQueue.Door?) -> Function {
        Function(
            name: "order",
            routes: [
                Route(prefix: prefix, methods: [.post]) { request in
                    let order = try place(request, context: context, door: door)
                    return try Response.json(
                        Answer(orderId: order.id, sale: order.sale, user: order.user), status: .created)
                }
            ])
    }

    /// Opens the door on fd 0 when the web server passed the listening socket there (not with
    /// `FLASHSALE_LISTEN`); with `FLASHSALE_PROCESSES_PER_SOCKET` processes sharing it, the
    /// limit is theirs together, as each door sees the whole queue.
    private static func openDoor(limit: Int) -> ListenQueue.Door? {
        let environment = ProcessInfo.processInfo.environment
        guard environment["FLASHSALE_LISTEN"] == nil else { return nil }
        let sharers = Int(environment["FLASHSALE_PROCESSES_PER_SOCKET"] ?? "1") ?? 1
        let (total, overflow) = limit.multipliedReportingOverflow(by: max(1, sharers))
        return ListenQueue.Door.open(
            listener: 0, limit: overflow ? .max : total, answer: Response(error: busy.httpError).cgiBytes())
    }

    static func place(_ request: Request, context: BuyingContext, door: ListenQueue.Door? = nil) throws -> Order {
        try context.inSession { session in
            let now = context.clock()
            let secret = String(request.path.dropFirst(prefix.count))
            guard let sale = try session.sale(secret: secret, nowMs: now) else { throw Router.notFound }
            let attempt = try SaleRequest(request, sale: sale, at: now, session: session, context: context)
            // The door's refusals since the last order request count in this one's sale: the
            // door answers before reading which sale a request is for.
            let refusedAtDoor = door?.takeRefusals() ?? 0
            if refusedAtDoor > 0 {
                attempt.stock.add(.attempts, Int64(refusedAtDoor))
                attempt.stock.add(.rejectedBusy, Int64(refusedAtDoor))
            }
            attempt.stock.increment(.attempts)
            try attempt.checkState()
            if door?.isOpen != true && context.busyGate.refuses(queuedBehind: request.queuedBehind()) {
                throw attempt.refuse(busy)
            }
            try attempt.limitRate()
            let (user, window) = try verify(attempt)
            let order = try attempt.oneAtATime(user) {
                if try session.store.hasOrder(sale: sale.id, user: user) { throw attempt.refuse(.alreadyOrdered) }
                try takeUnit(attempt)
                return try write(attempt, user: user)
            }
            attempt.stock.increment(.orders)
            if let window { attempt.stock.releaseAdmission(window: window) }
            return order
        }
    }

    /// Takes one unit for the order; sold out only while the stock holds the sale's terms,
    /// otherwise 503 `busy` (``SaleChecks/whenEmpty(_:_:)``): stock cleared by another
    /// process's rebuild of the gate reads empty before it is reconciled from the store. The
    /// terms are checked before the take, so that a take from cleared stock does not set a
    /// sold-out flag in it, and again after a failed one, which is tried once more: a reconcile
    /// may have refilled the stock in between.
    private static func takeUnit(_ attempt: SaleRequest) throws(Refusal) {
        let stock = attempt.stock
        let terms = attempt.sale.stockTerms
        guard stock.terms() == terms else { throw attempt.refuse(.gateRebuilding) }
        if stock.takeOne() { return }
        guard stock.terms() == terms else { throw attempt.refuse(.gateRebuilding) }
        guard stock.takeOne() else { throw attempt.refuseEmpty() }
    }

    /// The caller's user id and the admission window of their token, once the identity and the
    /// order token agree on user and sale.
    private static func verify(_ attempt: SaleRequest) throws -> (user: String, window: UInt32?) {
        let context = attempt.context
        let sale = attempt.sale
        let user = try attempt.counting(.rejectedUnauthorized) { () throws(HTTPError) in
            try context.identity.user(of: attempt.request)
        }
        let body = try attempt.counting(.rejectedOther) { () throws(HTTPError) in
            try attempt.request.decodeJSON(Body.self, example: #"{"sale":"ID","token":"…"}"#)
        }
        guard body.sale == sale.id else {
            throw attempt.refuse(Refusal(.badRequest, "this order URL is not the one of sale \"\(body.sale)\""))
        }
        let claims: OrderTokenClaims
        do {
            claims = try context.orderTokens.verify(body.token, as: OrderTokenClaims.self)
        } catch .expired {
            throw attempt.refuse(Refusal(.tokenExpired, "the order token has expired; ask /api/token for another"))
        } catch {
            throw attempt.refuse(Refusal(.invalidToken, "the order token is not valid: \(error)"))
        }
        guard claims.sub.value == user, claims.sale == sale.id else {
            throw attempt.refuse(
                Refusal(.invalidToken, "the order token was issued to another user or for another sale"))
        }
        return (user, claims.window)
    }

    /// Writes the order after the gate gave a unit; any failure returns the unit, unless the
    /// order stayed committed (a failed sync that could not withdraw it).
    private static func write(_ attempt: SaleRequest, user: String) throws -> Order {
        do {
            return try attempt.session.placeOrder(OrderEntry(sale: attempt.sale.id, user: user, nowMs: attempt.nowMs))
        } catch {
            if !error.orderKept {
                attempt.session.returnUnit(
                    of: attempt.sale, stock: attempt.stock, soldOutInStore: error == .soldOut, nowMs: attempt.nowMs)
            }
            switch error {
            case .soldOut: throw attempt.refuse(.soldOut)
            case .alreadyOrdered: throw attempt.refuse(.alreadyOrdered)
            default: throw error
            }
        }
    }
}
