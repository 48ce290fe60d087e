import Basics
import Foundation
import PostgreSQL
import Sales

/// The truth about sales and orders in PostgreSQL, for sales whose hosts share one database:
/// one connection per session, every statement prepared once per connection. A group of won
/// orders is one statement (`place_orders`, see ``PostgresSchema``), so one round trip and one
/// transaction, committed with `synchronous_commit` on (FULL: on the synchronous standby too,
/// if there is one) or local (NORMAL: on the primary's disk only); the
/// conditional update never takes the last unit twice, and `UNIQUE (sale, user_id)` keeps one
/// order per user.
public final class PostgresSaleStore: SaleStore {
    public let connection: PostgresConnection
    public let synchronous: Durability
    /// A random id of this database, for a host's stock segment to know which database it mirrors.
    public let databaseID: UInt64

    private static let saleColumns =
        "id, slot, title, price, stock, remaining, version, starts_at, ends_at, secret, created_at, per_ip_rate, "
        + "min_level, captcha, pow_bits"
    private static let orderColumns = "id, sale, user_id, created_at, status"

    private static let selectSale = PostgresStatement("sale", "SELECT \(saleColumns) FROM sales WHERE id = $1")
    private static let selectSales = PostgresStatement(
        "sales", "SELECT \(saleColumns) FROM sales ORDER BY starts_at, id")
    private static let selectOrders = PostgresStatement(
        "orders", "SELECT \(orderColumns) FROM orders WHERE sale = $1 ORDER BY id")
    private static let selectHasOrder = PostgresStatement(
        "has_order", "SELECT 1 FROM orders WHERE sale = $1 AND user_id = $2")
    private static let selectUserOrder = PostgresStatement(
        "user_order", "SELECT \(orderColumns) FROM orders WHERE sale = $1 AND user_id = $2")
    private static let selectQuestions = PostgresStatement(
        "questions", "SELECT question, answer FROM sale_questions WHERE sale = $1 ORDER BY position")
    private static let placeGroup = PostgresStatement(
        "place_orders",
        "SELECT entry, outcome, order_id, order_created_at, order_status FROM place_orders($1::jsonb) ORDER BY entry")

    /// Connects to `url` (a `postgres://` URL or conninfo; several hosts with
    /// `target_session_attrs=read-write` find the primary), migrated to this schema. A failure
    /// is `.database`, transient when the server is unreachable or starting.
    public init(url: String, synchronous: Durability = .full) throws(StoreError) {
        do {
            // A setting of the session, sent again whenever the connection is made again.
            connection = try PostgresConnection(
                url: url, settings: ["synchronous_commit": synchronous == .full ? "on" : "local"])
            try PostgresSchema.migrate(connection)
            let id = try connection.query("SELECT value FROM meta WHERE key = 'database_id'")[row: 0, column: 0]
            databaseID = UInt64(id ?? "", radix: 16) ?? 0
        } catch {
            throw .database(PostgresFault(error))
        }
        self.synchronous = synchronous
    }

    /// Creates a sale in the slot after the highest taken, with a fresh random order secret; refuses bad
    /// values, a duplicate id and a sale past the segment's slots. Creations of several hosts
    /// take turns (an advisory lock), so that two never pick the same slot.
    public func create(_ new: NewSale, nowMs: Int64) throws(StoreError) -> Sale {
        try new.validate()
        let created = try storeErrors {
            try connection.transaction { () throws(PostgresError) -> Sale? in
                _ = try connection.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.advisoryLock))")
                let rows = try connection.query(
                    """
                    INSERT INTO sales (
                      id, slot, title, price, stock, remaining, starts_at, ends_at, secret, created_at, per_ip_rate,
                      min_level, captcha, pow_bits)
                    SELECT $1, COALESCE(MAX(slot) + 1, 0), $2, $3, $4, $4, $5, $6, $7, $8, $9, $10, $11, $12 FROM sales
                    HAVING COUNT(*) < \(PostgresSchema.maxSales)
                    ON CONFLICT (id) DO NOTHING
                    RETURNING \(Self.saleColumns)
                    """, Self.values(of: new, nowMs: nowMs))
                guard rows.count == 1 else { return nil }
                try insertQuestions(new)
                return try Self.sale(rows, 0)
            }
        }
        if let created { return created }
        if try sale(new.id) != nil { throw .duplicateSale(new.id) }
        throw .invalid("this database holds at most \(PostgresSchema.maxSales) sales")
    }

    /// Starts sale `new.id` over: its orders are deleted and it takes the new values, a new order
    /// secret and a new version, keeping its slot. Only the demo does this.
    public func replace(_ new: NewSale, nowMs: Int64) throws(StoreError) -> Sale {
        try new.validate()
        let replaced = try storeErrors {
            try connection.transaction { () throws(PostgresError) -> Sale? in
                // The sale's row first, as place_orders takes it, so that the two never deadlock.
                _ = try connection.query("SELECT 1 FROM sales WHERE id = $1 FOR UPDATE", [.text(new.id)])
                _ = try connection.query("DELETE FROM orders WHERE sale = $1", [.text(new.id)])
                let rows = try connection.query(
                    """
                    UPDATE sales SET title = $2, price = $3, stock = $4, remaining = $4, version = version + 1,
                      starts_at = $5, ends_at = $6, secret = $7, created_at = $8, per_ip_rate = $9, min_level = $10,
                      captcha = $11, pow_bits = $12
                    WHERE id = $1 RETURNING \(Self.saleColumns)
                    """, Self.values(of: new, nowMs: nowMs))
                guard rows.count == 1 else { return nil }
                _ = try connection.query("DELETE FROM sale_questions WHERE sale = $1", [.text(new.id)])
                try insertQuestions(new)
                return try Self.sale(rows, 0)
            }
        }
        guard let replaced else { throw .unknownSale(new.id) }
        return replaced
    }

    private func insertQuestions(_ new: NewSale) throws(PostgresError) {
        guard !new.questions.isEmpty else { return }
        let questions: String
        do {
            questions = String(decoding: try JSONEncoder().encode(new.questions), as: UTF8.self)
        } catch {
            throw PostgresError(message: "cannot encode the sale's questions as JSON: \(error)")
        }
        _ = try connection.query(
            """
            INSERT INTO sale_questions (sale, position, question, answer)
            SELECT $1, q.position - 1, q.value ->> 'question', q.value ->> 'answer'
            FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS q (value, position)
            """, [.text(new.id), .text(questions)])
    }

    public func sale(_ id: String) throws(StoreError) -> Sale? {
        try storeErrors {
            let rows = try connection.execute(Self.selectSale, [.text(id)])
            return rows.count == 0 ? nil : try Self.sale(rows, 0)
        }
    }

    public func sales() throws(StoreError) -> [Sale] {
        try storeErrors {
            let rows = try connection.execute(Self.selectSales)
            return try (0..<rows.count).map { (row) throws(PostgresError) in try Self.sale(rows, row) }
        }
    }

    public func questions(ofSale id: String) throws(StoreError) -> [SaleQuestion] {
        try storeErrors {
            let rows = try connection.execute(Self.selectQuestions, [.text(id)])
            return (0..<rows.count).map {
                SaleQuestion(question: rows[row: $0, column: 0] ?? "", answer: rows[row: $0, column: 1] ?? "")
            }
        }
    }

    public func orders(ofSale id: String) throws(StoreError) -> [Order] {
        guard try sale(id) != nil else { throw .unknownSale(id) }
        return try storeErrors {
            let rows = try connection.execute(Self.selectOrders, [.text(id)])
            return try (0..<rows.count).map { (row) throws(PostgresError) in try Self.order(rows, row) }
        }
    }

    public func hasOrder(sale id: String, user: String) throws(StoreError) -> Bool {
        try storeErrors { try connection.execute(Self.selectHasOrder, [.text(id), .text(user)]).count > 0 }
    }

    public func order(sale id: String, user: String) throws(StoreError) -> Order? {
        try storeErrors {
            let rows = try connection.execute(Self.selectUserOrder, [.text(id), .text(user)])
            return rows.count == 0 ? nil : try Self.order(rows, 0)
        }
    }

    /// Places a group of won orders in one statement, so one round trip and one transaction
    /// (see ``SaleStore/placeOrders(_:)`` and `place_orders` in ``PostgresSchema``). A
    /// connection lost on the way leaves the group's fate unknown: the failure says the orders
    /// may have been committed, and committing the same entries again (their tickets) finds them.
    public func placeOrders(_ entries: [OrderEntry]) throws(StoreError) -> [OrderOutcome] {
        guard !entries.isEmpty else { return [] }
        let group: Data
        do {
            group = try JSONEncoder().encode(entries.map(GroupEntry.init))
        } catch {
            throw .invalid("cannot encode a group of orders as JSON: \(error)")
        }
        let rows = try storeErrors {
            try connection.execute(Self.placeGroup, [.text(String(decoding: group, as: UTF8.self))])
        }
        // The group committed: an answer this code cannot read must not give its units back.
        do {
            return try Self.outcomes(rows, of: entries)
        } catch {
            throw .database(PostgresFault(error, mayHaveCommitted: true))
        }
    }

    /// Each entry's outcome from `place_orders`' rows.
    private static func outcomes(_ rows: PostgresRows, of entries: [OrderEntry]) throws(PostgresError) -> [OrderOutcome]
    {
        guard rows.count == entries.count else {
            throw PostgresError(message: "a group of \(entries.count) orders came back with \(rows.count) outcomes")
        }
        return try (0..<rows.count).map { (row) throws(PostgresError) -> OrderOutcome in
            let entry = entries[row]
            switch rows.string(row, "outcome") {
            case "placed":
                guard let id = try rows.int64(row, "order_id"), let createdAt = try rows.int64(row, "order_created_at"),
                    let status = rows.string(row, "order_status")
                else { throw PostgresError(message: "place_orders placed an order without its id, time or status") }
                return .placed(Order(id: id, sale: entry.sale, user: entry.user, createdAt: createdAt, status: status))
            case "already_ordered": return .alreadyOrdered
            case "sold_out": return .soldOut
            case "unknown_sale": return .unknownSale
            case let other: throw PostgresError(message: "place_orders answered \(other ?? "nothing") for an entry")
            }
        }
    }

    /// One entry of a group as `place_orders` reads it.
    private struct GroupEntry: Encodable {
        var sale: String
        var user: String
        var at: Int64
        var ticket: Int64?

        init(_ entry: OrderEntry) {
            (sale, user, at, ticket) = (entry.sale, entry.user, entry.nowMs, entry.ticket)
        }
    }

    private static func values(of new: NewSale, nowMs: Int64) -> [PostgresValue?] {
        [
            .text(new.id), .text(new.title), .int(new.price), .int(new.stock), .int(new.startsAt),
            new.endsAt.map(PostgresValue.int), .text(randomHex(bytes: 16)), .int(nowMs), .int(new.perIPRate),
            .int(new.minLevel), .text(new.captcha.rawValue), .int(new.powBits),
        ]
    }

    /// Runs `body`, which throws `StoreError` refusals and `PostgresError` failures, with the
    /// failures as `.database`: one whose statement may have taken effect all the same (its
    /// answer lost, ``PostgresError/outcomeUnknown``) says an order may have been committed.
    private func storeErrors<T>(_ body: () throws -> T) throws(StoreError) -> T {
        do {
            return try body()
        } catch let error as StoreError {
            throw error
        } catch let error as PostgresError {
            throw .database(PostgresFault(error, mayHaveCommitted: error.outcomeUnknown))
        } catch {
            throw .invalid("\(error)")
        }
    }

    private static func sale(_ rows: PostgresRows, _ row: Int) throws(PostgresError) -> Sale {
        Sale(
            id: rows.string(row, "id") ?? "", slot: Int(try rows.int64(row, "slot") ?? 0),
            title: rows.string(row, "title") ?? "", price: try rows.int64(row, "price") ?? 0,
            stock: try rows.int64(row, "stock") ?? 0, remaining: try rows.int64(row, "remaining") ?? 0,
            version: try rows.int64(row, "version") ?? 0, startsAt: try rows.int64(row, "starts_at") ?? 0,
            endsAt: try rows.int64(row, "ends_at"), secret: rows.string(row, "secret") ?? "",
            createdAt: try rows.int64(row, "created_at") ?? 0, perIPRate: try rows.int64(row, "per_ip_rate") ?? 0,
            minLevel: try rows.int64(row, "min_level") ?? 0,
            captcha: CaptchaMode(rawValue: rows.string(row, "captcha") ?? "") ?? .off,
            powBits: try rows.int64(row, "pow_bits") ?? 0)
    }

    private static func order(_ rows: PostgresRows, _ row: Int) throws(PostgresError) -> Order {
        Order(
            id: try rows.int64(row, "id") ?? 0, sale: rows.string(row, "sale") ?? "",
            user: rows.string(row, "user_id") ?? "", createdAt: try rows.int64(row, "created_at") ?? 0,
            status: rows.string(row, "status") ?? "")
    }
}
