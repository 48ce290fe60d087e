import Basics
import CSQLite
import Sales
import Synchronization

/// The truth about sales and orders: one connection per process, every statement prepared
/// once. An order is one transaction: a conditional inventory update that never takes the
/// last unit twice, and an insert that the `UNIQUE (sale, user)` constraint keeps single.
public final class SQLiteSaleStore: SaleStore {
    /// How commits reach the disk (``Durability``). FULL is kept without SQLite's
    /// `synchronous = FULL`, which fsyncs inside the write lock so that the processes' commits
    /// queue one fsync behind the other: the connection runs at NORMAL and syncs the write-ahead
    /// log itself right after COMMIT, outside the lock. The syncs of processes committing at once
    /// then overlap, and one covers every commit written before it (the log is appended in
    /// order); a checkpoint syncs the log before it copies it back and before the log is reused,
    /// so no unsynced commit is overwritten.
    public typealias Synchronous = Durability

    public let database: Database
    public let synchronous: Synchronous
    /// A random id of this database, for the stock segment to know which database it mirrors.
    public let databaseID: UInt64

    private let insertSale: Statement
    private let selectSale: Statement
    private let selectSales: Statement
    private let selectOrders: Statement
    private let selectOrder: Statement
    private let insertNewOrder: Statement
    private let selectUserOrder: Statement
    private let selectRemaining: Statement
    private let takeUnits: Statement
    private let deleteOrder: Statement
    private let returnUnit: Statement
    private let begin: Statement
    private let commit: Statement
    private let rollback: Statement

    private static let saleColumns =
        "id, slot, title, price, stock, remaining, version, starts_at, ends_at, secret, created_at, per_ip_rate, min_level, captcha, pow_bits"

    /// Opens the database at `path`, migrated to this schema. A failure is `.database`: a busy
    /// or full disk `isTransient` (answered like a busy database, not as a bug).
    public convenience init(path: String, synchronous: Synchronous = .full) throws(StoreError) {
        do {
            try self.init(opening: path, synchronous: synchronous)
        } catch {
            throw .database(error)
        }
    }

    private init(opening path: String, synchronous: Synchronous) throws(SQLiteError) {
        database = try Database(path: path)
        self.synchronous = synchronous
        try Schema.migrate(database)
        try database.execute("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON")
        let id = try database.text("SELECT value FROM meta WHERE key = 'database_id'") ?? ""
        databaseID = UInt64(id, radix: 16) ?? 0
        insertSale = try database.prepare(
            """
            INSERT INTO sales (
              id, slot, title, price, stock, remaining, starts_at, ends_at, secret, created_at, per_ip_rate, min_level,
              captcha, pow_bits)
            VALUES (?1, (SELECT COALESCE(MAX(slot) + 1, 0) FROM sales), ?2, ?3, ?4, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
            RETURNING \(Self.saleColumns)
            """)
        selectSale = try database.prepare("SELECT \(Self.saleColumns) FROM sales WHERE id = ?")
        selectSales = try database.prepare("SELECT \(Self.saleColumns) FROM sales ORDER BY starts_at, id")
        selectOrders = try database.prepare(
            "SELECT id, sale, user, created_at, status FROM orders WHERE sale = ? ORDER BY id")
        selectOrder = try database.prepare("SELECT 1 FROM orders WHERE sale = ? AND user = ?")
        insertNewOrder = try database.prepare(
            """
            INSERT INTO orders (sale, user, created_at, ticket) VALUES (?, ?, ?, ?) ON CONFLICT (sale, user) DO NOTHING
            RETURNING id, sale, user, created_at, status
            """)
        selectUserOrder = try database.prepare(
            "SELECT id, sale, user, created_at, status, ticket FROM orders WHERE sale = ? AND user = ?")
        selectRemaining = try database.prepare("SELECT remaining FROM sales WHERE id = ?")
        takeUnits = try database.prepare(
            "UPDATE sales SET remaining = remaining - ?1, version = version + 1 WHERE id = ?2 AND remaining >= ?1")
        deleteOrder = try database.prepare("DELETE FROM orders WHERE id = ? AND sale = ?")
        returnUnit = try database.prepare(
            "UPDATE sales SET remaining = remaining + 1, version = version + 1 WHERE id = ? AND remaining < stock")
        begin = try database.prepare("BEGIN IMMEDIATE")
        commit = try database.prepare("COMMIT")
        rollback = try database.prepare("ROLLBACK")
    }

    /// Creates a sale with a fresh random order secret; refuses bad values and a duplicate id.
    public func create(_ new: NewSale, nowMs: Int64) throws(StoreError) -> Sale {
        try new.validate()
        let values: [SQLValue] = [
            .text(new.id), .text(new.title), .integer(new.price), .integer(new.stock), .integer(new.startsAt),
            new.endsAt.map(SQLValue.integer) ?? .null, .text(randomHex(bytes: 16)), .integer(nowMs),
            .integer(new.perIPRate), .integer(new.minLevel), .text(new.captcha.rawValue), .integer(new.powBits),
        ]
        return try storeErrors {
            let sale = try inTransaction {
                guard let row = try insertSale.query(values).first else { throw StoreError.unknownSale(new.id) }
                try insertQuestions(new)
                return Self.sale(from: row)
            }
            try syncIfFull()
            return sale
        } sqlite: { error in
            switch error.extendedCode {
            case .constraintPrimaryKey: .duplicateSale(new.id)
            case .constraintCheck: .invalid("this database holds at most \(Schema.maxSales) sales")
            default: .database(error)
            }
        }
    }

    /// Starts sale `new.id` over: its orders are deleted and it takes the new title, price, stock
    /// and times, a new order secret and a new version, keeping its slot. Only the demo does
    /// this; a real sale is never replaced.
    public func replace(_ new: NewSale, nowMs: Int64) throws(StoreError) -> Sale {
        try new.validate()
        return try storeErrors {
            let sale = try inTransaction {
                try database.prepare("DELETE FROM orders WHERE sale = ?").execute([.text(new.id)])
                let row = try database.prepare(
                    """
                    UPDATE sales SET title = ?2, price = ?3, stock = ?4, remaining = ?4, version = version + 1,
                      starts_at = ?5, ends_at = ?6, secret = ?7, created_at = ?8, per_ip_rate = ?9, min_level = ?10,
                      captcha = ?11, pow_bits = ?12
                    WHERE id = ?1 RETURNING \(Self.saleColumns)
                    """
                ).query([
                    .text(new.id), .text(new.title), .integer(new.price), .integer(new.stock), .integer(new.startsAt),
                    new.endsAt.map(SQLValue.integer) ?? .null, .text(randomHex(bytes: 16)), .integer(nowMs),
                    .integer(new.perIPRate), .integer(new.minLevel), .text(new.captcha.rawValue),
                    .integer(new.powBits),
                ]).first
                guard let row else { throw StoreError.unknownSale(new.id) }
                try database.prepare("DELETE FROM sale_questions WHERE sale = ?").execute([.text(new.id)])
                try insertQuestions(new)
                return Self.sale(from: row)
            }
            try syncIfFull()
            return sale
        }
    }

    /// The questions of sale `id`'s question captcha, in the order they were given.
    public func questions(ofSale id: String) throws(StoreError) -> [SaleQuestion] {
        try run { () throws(SQLiteError) in
            try database.prepare("SELECT question, answer FROM sale_questions WHERE sale = ? ORDER BY position")
                .query([.text(id)]).map { SaleQuestion(question: $0[0].text ?? "", answer: $0[1].text ?? "") }
        }
    }

    private func insertQuestions(_ new: NewSale) throws(SQLiteError) {
        let insert = try database.prepare(
            "INSERT INTO sale_questions (sale, position, question, answer) VALUES (?, ?, ?, ?)")
        for (position, question) in new.questions.enumerated() {
            try insert.execute([
                .text(new.id), .integer(Int64(position)), .text(question.question), .text(question.answer),
            ])
        }
    }

    /// The sale with `id`, or nil.
    public func sale(_ id: String) throws(StoreError) -> Sale? {
        try run { () throws(SQLiteError) in try selectSale.query([.text(id)]).first.map(Self.sale(from:)) }
    }

    /// Every sale, by start time.
    public func sales() throws(StoreError) -> [Sale] {
        try run { () throws(SQLiteError) in try selectSales.query().map(Self.sale(from:)) }
    }

    /// The orders of a sale, oldest first.
    public func orders(ofSale id: String) throws(StoreError) -> [Order] {
        guard try sale(id) != nil else { throw .unknownSale(id) }
        return try run { () throws(SQLiteError) in
            try selectOrders.query([.text(id)]).map(Self.order(from:))
        }
    }

    /// Whether `user` has an order in sale `id`.
    public func hasOrder(sale id: String, user: String) throws(StoreError) -> Bool {
        try run { () throws(SQLiteError) in !(try selectOrder.query([.text(id), .text(user)]).isEmpty) }
    }

    /// Places a group of won orders in one `BEGIN IMMEDIATE` transaction and one sync (see
    /// ``SaleStore/placeOrders(_:)``): each sale's remaining stock is read once under the write
    /// lock, the entries are inserted in order (`ON CONFLICT DO NOTHING` tells an earlier order
    /// by the same user), and each sale's units are taken with one conditional update of the
    /// group's count.
    ///
    /// A full disk or a failed write makes the transaction fail and roll back: nothing changed,
    /// and the error `isTransient`. A commit that landed but whose sync failed is not an order
    /// either (it is not known durable): every order of the group is withdrawn (see `withdraw`).
    /// A failed sync does not pass: Linux may drop the pages it could not write and report that
    /// once, so a later sync "succeeds" over a hole in the log, and recovery after a crash stops
    /// at the hole, taking later acknowledged orders with it. So the store stops taking orders
    /// for good in this process (`syncFailure`), and this and every later call throws
    /// `.syncFailed`.
    public func placeOrders(_ entries: [OrderEntry]) throws(StoreError) -> [OrderOutcome] {
        guard !entries.isEmpty else { return [] }
        if let failure = syncFailure { throw .syncFailed(failure, orderKept: false) }
        var inserted: [Order] = []
        return try storeErrors {
            let outcomes = try inTransaction { () throws -> [OrderOutcome] in
                inserted = []
                var left: [String: Int64?] = [:]
                var taken: [String: Int64] = [:]
                var outcomes: [OrderOutcome] = []
                for entry in entries {
                    if left[entry.sale] == nil {
                        left[entry.sale] = try selectRemaining.query([.text(entry.sale)]).first?[0].integer
                    }
                    guard let remaining = left[entry.sale] ?? nil else {
                        outcomes.append(.unknownSale)
                        continue
                    }
                    guard taken[entry.sale, default: 0] < remaining else {
                        outcomes.append(try placedBefore(entry).map(OrderOutcome.placed) ?? .soldOut)
                        continue
                    }
                    let row = try insertNewOrder.query([
                        .text(entry.sale), .text(entry.user), .integer(entry.nowMs),
                        entry.ticket.map(SQLValue.integer) ?? .null,
                    ])
                    guard let row = row.first else {
                        outcomes.append(try placedBefore(entry).map(OrderOutcome.placed) ?? .alreadyOrdered)
                        continue
                    }
                    taken[entry.sale, default: 0] += 1
                    inserted.append(Self.order(from: row))
                    outcomes.append(.placed(Self.order(from: row)))
                }
                for (sale, count) in taken {
                    try takeUnits.execute([.integer(count), .text(sale)])
                    guard database.changes == 1 else {
                        throw StoreError.invalid("the group took \(count) units of sale \"\(sale)\", more than it had")
                    }
                }
                reach(.inTransaction)
                return outcomes
            }
            reach(.afterCommit)
            if let failure = failedSync() {
                // Only the orders this call inserted: one found by its ticket is another commit's.
                let withdrawn = inserted.map(withdraw).allSatisfy { $0 }
                throw StoreError.syncFailed(failure, orderKept: !withdrawn)
            }
            return outcomes
        }
    }

    /// The order `entry` placed in an earlier commit of the same entry (its ticket), or nil.
    private func placedBefore(_ entry: OrderEntry) throws -> Order? {
        guard let ticket = entry.ticket,
            let row = try selectUserOrder.query([.text(entry.sale), .text(entry.user)]).first, row[5].integer == ticket
        else { return nil }
        return Self.order(from: row)
    }

    /// The order of `user` in sale `id`, or nil.
    public func order(sale id: String, user: String) throws(StoreError) -> Order? {
        try run { () throws(SQLiteError) in
            try selectUserOrder.query([.text(id), .text(user)]).first.map(Self.order(from:))
        }
    }

    /// Takes back `order`, committed but not known durable because the sync after its commit
    /// failed: deletes its row and returns its unit in one transaction, and syncs that. So the
    /// buyer, refused, finds nothing changed, and buys again once serve restarts.
    /// When the withdrawal cannot be written either, the order stays: the inventory holds its
    /// unit, and once serve restarts the buyer's next try is answered `already_ordered`.
    /// Answers whether it was withdrawn (a withdrawal leaves the inventory's version two above
    /// the order's start).
    func withdraw(_ order: Order) -> Bool {
        do {
            try inTransaction {
                try deleteOrder.execute([.integer(order.id), .text(order.sale)])
                if database.changes == 1 { try returnUnit.execute([.text(order.sale)]) }
            }
        } catch {
            return false
        }
        // Unsynced, the withdrawal is still what every connection sees; either state may survive
        // a power cut, and neither was acknowledged.
        _ = failedSync()
        return true
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` … `COMMIT`, rolled back when anything in it throws.
    private func inTransaction<T>(_ body: () throws -> T) throws -> T {
        try begin.execute()
        do {
            let result = try body()
            try commit.execute()
            return result
        } catch {
            try? rollback.execute()
            throw error
        }
    }

    /// With `FULL`, puts what was just committed on disk (see `Synchronous`); a failed sync
    /// stops orders (see `placeOrders(_:)`) and is thrown as `.syncFailed`.
    private func syncIfFull() throws(StoreError) {
        if let failure = failedSync() { throw .syncFailed(failure, orderKept: false) }
    }

    /// With `FULL`, syncs the log: nil once it is on disk, else the failure, orders stopped.
    private func failedSync() -> SQLiteError? {
        guard synchronous == .full else { return nil }
        do {
            try syncLog(database)
            return nil
        } catch {
            let path = database.path
            Self.syncFailures.withLock { failures in
                if failures[path] == nil { failures[path] = error }
            }
            return error
        }
    }

    /// The failed sync of the log that stopped orders on this database in this process, or nil:
    /// set once, never cleared (an operator checks the disk and restarts serve).
    public var syncFailure: SQLiteError? {
        let path = database.path
        return Self.syncFailures.withLock { $0[path] }
    }

    /// The first failed sync per database path, for the whole process: a store opened again on
    /// the same file (the buying context reopens its desk after a segment fault) stays stopped.
    private static let syncFailures = Mutex<[String: SQLiteError]>([:])

    /// Called as a group commit reaches each of its points inside the store: a fault drill holds
    /// the process there (``CommitPoint``).
    public var onCommitPoint: (@Sendable (CommitPoint) -> Void)?

    private func reach(_ point: CommitPoint) {
        onCommitPoint?(point)
    }

    /// Syncs the write-ahead log (`Database.syncWAL`); a test puts a failing sync in its place.
    var syncLog: (Database) throws(SQLiteError) -> Void = { database throws(SQLiteError) in try database.syncWAL() }

    /// Runs `body`, which throws only `StoreError` and `SQLiteError`, with SQLite's failures as
    /// `sqlite` says (a failure of the database unless a constraint means a refusal).
    private func storeErrors<T>(
        _ body: () throws -> T, sqlite: (SQLiteError) -> StoreError = { .database($0) }
    ) throws(StoreError) -> T {
        do {
            return try body()
        } catch let error as StoreError {
            throw error
        } catch let error as SQLiteError {
            throw sqlite(error)
        } catch {
            throw .invalid("\(error)")
        }
    }

    private func run<T>(_ body: () throws(SQLiteError) -> T) throws(StoreError) -> T {
        do { return try body() } catch { throw .database(error) }
    }

    private static func order(from row: [SQLValue]) -> Order {
        Order(
            id: row[0].integer ?? 0, sale: row[1].text ?? "", user: row[2].text ?? "",
            createdAt: row[3].integer ?? 0, status: row[4].text ?? "")
    }

    private static func sale(from row: [SQLValue]) -> Sale {
        Sale(
            id: row[0].text ?? "", slot: Int(row[1].integer ?? 0), title: row[2].text ?? "",
            price: row[3].integer ?? 0, stock: row[4].integer ?? 0, remaining: row[5].integer ?? 0,
            version: row[6].integer ?? 0, startsAt: row[7].integer ?? 0, endsAt: row[8].integer,
            secret: row[9].text ?? "", createdAt: row[10].integer ?? 0, perIPRate: row[11].integer ?? 0,
            minLevel: row[12].integer ?? 0, captcha: CaptchaMode(rawValue: row[13].text ?? "") ?? .off,
            powBits: row[14].integer ?? 0)
    }
}
