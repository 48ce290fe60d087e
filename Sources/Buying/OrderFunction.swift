import FastCGI
import Foundation
import Identity
import Sales
import Segment
import Store

/// `POST /api/order/<secret>` with `{"sale":"ID","token":"…"}` → 201 `{"orderId":…,"sale":…,"user":…}`.
///
/// Checks, in this order, each refusal changing nothing: the secret (a wrong one is the same
/// 404 as any unknown path), the identity, the order token (this user's, this sale's,
/// unexpired), the sale's state and an earlier order by the same user. Only then is a unit
/// taken from the segment with a compare-and-swap, and the order written in one SQLite
/// transaction (a conditional inventory update and the insert); 201 comes after COMMIT, and
/// every failure after the take returns the unit.
///
/// Before the identity, three cheap refusals: the per-node `BusyGate` (503 `busy` when too many
/// requests queue behind this one), the state (`not_started`, `ended` and `sold_out` are
/// public: precheck tells anyone, so the crowd that arrives after the sell-out is answered
/// from the segment without two signature checks), and the client address's rate (429
/// `rate_limited`). From the earlier order on, the account's lease is held: a second request
/// of the same account meanwhile is `busy` at once.
public enum OrderFunction {
    static let prefix = "/api/order/"
    static let busy = HTTPError.fixed(
        .busy, "too many orders are waiting on this server; retry in a second", headers: [.retryAfter: "1"])

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
                    let order = try context.serially { try place(request, context: context, door: door) }
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
            listener: 0, limit: overflow ? .max : total, answer: Response(error: busy).cgiBytes())
    }

    static func place(_ request: Request, context: BuyingContext, door: ListenQueue.Door? = nil) throws -> Order {
        let now = context.clock()
        let secret = String(request.path.dropFirst(prefix.count))
        guard let sale = try context.sale(secret: secret, nowMs: now) else { throw Router.notFound }
        let slot = try context.slot(for: sale, nowMs: now)
        let configuration = SaleDesk.configuration(of: sale)
        // The door's refusals since the last order request count in this one's sale: the door
        // answers before reading which sale a request is for.
        let refusedAtDoor = door?.takeRefusals() ?? 0
        if refusedAtDoor > 0 {
            slot.add(.attempts, Int64(refusedAtDoor))
            slot.add(.rejectedBusy, Int64(refusedAtDoor))
        }
        slot.increment(.attempts)
        do {
            if let refusal = SaleGate.refusal(slot, configuration, nowMs: now) { throw refusal }
            if door?.isOpen != true && context.busyGate.refuses(queuedBehind: request.queuedBehind()) { throw busy }
            try AbuseChecks.limitRate(request, sale: sale, slot: slot, context: context)
            let (user, window) = try verify(request, sale: sale, context: context)
            let order = try AbuseChecks.oneAtATime(user, slot: slot, context: context) {
                if let refusal = SaleGate.refusal(slot, configuration, nowMs: context.clock()) { throw refusal }
                if try context.store.hasOrder(sale: sale.id, user: user) { throw SaleGate.alreadyOrdered }
                try takeUnit(from: slot, configuration)
                return try write(sale: sale, user: user, slot: slot, nowMs: now, context: context)
            }
            slot.increment(.orders)
            if let window { slot.releaseAdmission(window: window) }
            return order
        } catch let error as HTTPError {
            SaleGate.count(error, in: slot)
            throw error
        }
    }

    /// Takes one unit for the order; sold out only while the slot holds the sale's
    /// `configuration`, otherwise 503 `busy` (``SaleGate/whenEmpty(_:_:)``): a slot cleared by
    /// another process's re-initialisation reads empty before it is reconciled from SQLite. The
    /// configuration is checked before the take, so that a take from a cleared slot does not sync
    /// a sold-out flag into it, and again after a failed one, which is tried once more: a
    /// reconcile may have refilled the slot in between.
    private static func takeUnit(from slot: SaleSlot, _ configuration: SaleSlot.Configuration) throws(HTTPError) {
        guard slot.configuration() == configuration else { throw BuyingContext.segmentFaulted }
        if slot.takeOne() { return }
        guard slot.configuration() == configuration else { throw BuyingContext.segmentFaulted }
        guard slot.takeOne() else { throw SaleGate.whenEmpty(slot, configuration) }
    }

    /// The caller's user id and the admission window of their token, once the identity and the
    /// order token agree on user and sale.
    private static func verify(
        _ request: Request, sale: Sale, context: BuyingContext
    ) throws(HTTPError) -> (user: String, window: UInt32?) {
        let user = try context.identity.user(of: request)
        let body = try request.decodeJSON(Body.self, example: #"{"sale":"ID","token":"…"}"#)
        guard body.sale == sale.id else {
            throw HTTPError(.badRequest, "this order URL is not the one of sale \"\(body.sale)\"")
        }
        let claims: OrderTokenClaims
        do {
            claims = try context.orderTokens.verify(body.token, as: OrderTokenClaims.self)
        } catch .expired {
            throw HTTPError(.tokenExpired, "the order token has expired; ask /api/token for another")
        } catch {
            throw HTTPError(.invalidToken, "the order token is not valid: \(error)")
        }
        guard claims.sub.value == user, claims.sale == sale.id else {
            throw HTTPError(.invalidToken, "the order token was issued to another user or for another sale")
        }
        return (user, claims.window)
    }

    /// Writes the order after the segment gave a unit; any failure returns the unit, unless the
    /// order stayed committed (a failed sync that could not withdraw it).
    private static func write(
        sale: Sale, user: String, slot: SaleSlot, nowMs: Int64, context: BuyingContext
    ) throws -> Order {
        do {
            return try context.store.placeOrder(sale: sale.id, user: user, nowMs: nowMs)
        } catch {
            if !error.orderKept {
                context.returnUnit(of: sale, slot: slot, soldOutInDatabase: error == .soldOut, nowMs: nowMs)
            }
            switch error {
            case .soldOut: throw SaleGate.soldOut
            case .alreadyOrdered: throw SaleGate.alreadyOrdered
            default: throw error
            }
        }
    }
}
