import CSQLite
import Foundation
import Sales
import TestSupport
import Testing

@testable import Store

/// A full disk or a failing write is a fault of the moment: the order fails with a transient
/// error, changes nothing, and the same order succeeds once space returns. A failed sync of
/// the log is not: the store stops taking orders for good in this process.
@Suite struct SaleStoreFaultTests {
    let directory: TemporaryDirectory
    let store: SQLiteSaleStore

    init() throws {
        directory = try TemporaryDirectory("store-fault")
        store = try SQLiteSaleStore(path: directory.path + "/flashsale.db")
    }

    static func error(_ extended: SQLiteResultCode) -> SQLiteError {
        SQLiteError(
            resultCode: extended.primary.rawValue, extendedResultCode: extended.rawValue, message: "\(extended)",
            sql: nil)
    }

    @Test func resultCodesAreMatchedByName() {
        #expect(SQLiteResultCode.ioErrFsync.primary == .ioErr)
        #expect(SQLiteResultCode.full.primary == .full)
        #expect(SQLiteResultCode.ioErrFsync.rawValue == 1034)  // SQLITE_IOERR_FSYNC in sqlite3.h
        #expect(SQLiteResultCode.constraintUnique.rawValue == 2067)  // SQLITE_CONSTRAINT_UNIQUE
        #expect(SQLiteResultCode.full.description == "database or disk is full")
        #expect(Self.error(.ioErrWrite).code == .ioErr && Self.error(.ioErrWrite).extendedCode == .ioErrWrite)
    }

    /// Transient are only the codes listed: a busy lock, a full disk, and a write, a WAL index
    /// or a truncation that failed before COMMIT. A failed sync (which stops orders), a short
    /// read (a truncated file) and every other I/O error are not.
    @Test(arguments: [
        (SQLiteResultCode.busy, true), (.locked, true), (.full, true), (.ioErrWrite, true), (.ioErrShmSize, true),
        (.ioErrTruncate, true), (.ioErr, false), (.ioErrRead, false), (.ioErrShortRead, false), (.ioErrFsync, false),
        (.ioErrDirFsync, false), (.ioErrNoMem, false), (.ioErrLock, false), (.ioErrData, false),
        (.ioErrCorruptFS, false), (.corrupt, false), (.constraintUnique, false), (.error, false), (.readOnly, false),
        (.notADB, false),
    ])
    func faultsOfTheMomentAreTransient(code: SQLiteResultCode, transient: Bool) {
        defer { directory.remove() }
        #expect(Self.error(code).isTransient == transient)
        // BuyingContext answers 503 `busy`, retry in a second, for what `isTransient` says.
        #expect(StoreError.database(Self.error(code)).isTransient == transient)
        #expect(!StoreError.soldOut.isTransient && !StoreError.alreadyOrdered.isTransient)
        // and 503 `busy`, orders stopped, for a failed sync.
        let stopped = StoreError.syncFailed(Self.error(code), orderKept: false)
        #expect(!stopped.isTransient && stopped.stopsOrders && !stopped.orderKept)
        #expect(!StoreError.database(Self.error(code)).stopsOrders)
    }

    /// `max_page_count` makes SQLite answer SQLITE_FULL as a full disk does, on the page the
    /// orders need next.
    @Test func anOrderOnAFullDatabaseFailsTransientlyChangesNothingAndSucceedsOnceThereIsRoom() throws {
        defer { directory.remove() }
        let sale = try store.create(
            NewSale(id: "full", title: "Full", price: 1, stock: 100_000, startsAt: 0, endsAt: nil), nowMs: 0)
        let pages = try #require(try store.database.text("PRAGMA page_count"))
        try store.database.execute("PRAGMA max_page_count = \(pages)")
        var failure: StoreError?
        var placed = 0
        while failure == nil && placed < 10_000 {
            let before = try #require(try store.sale(sale.id))
            do {
                _ = try store.placeOrder(sale: sale.id, user: "user\(placed)", nowMs: 1)
                placed += 1
            } catch {
                failure = error
                #expect(try store.sale(sale.id) == before)
                #expect(try store.orders(ofSale: sale.id).count == placed)
                #expect(try !store.hasOrder(sale: sale.id, user: "user\(placed)"))
            }
        }
        let error = try #require(failure, "the orders never filled the database")
        guard case .database(let fault) = error, let sqlite = fault as? SQLiteError else {
            Issue.record("\(error)")
            return
        }
        #expect(sqlite.code == .full && sqlite.isDiskFull && error.isTransient)

        try store.database.execute("PRAGMA max_page_count = 1000000")
        let order = try store.placeOrder(sale: sale.id, user: "user\(placed)", nowMs: 2)
        #expect(try store.orders(ofSale: sale.id).last == order)
        #expect(try store.sale(sale.id)?.remaining == 100_000 - Int64(placed) - 1)
    }

    /// A commit that landed but whose sync failed is withdrawn, and the store takes no more
    /// orders in this process, even once the sync would succeed again (Linux reports a failed
    /// writeback once, so the next sync may "succeed" over a hole in the log): every later order
    /// is refused at once with the first failure. Reads still work; so does another database.
    @Test func aFailedSyncWithdrawsTheOrderAndStopsOrdersForGood() throws {
        defer { directory.remove() }
        let sale = try store.create(
            NewSale(id: "sync", title: "S", price: 1, stock: 2, startsAt: 0, endsAt: nil), nowMs: 0)
        store.syncLog = { _ throws(SQLiteError) in throw Self.error(.ioErrFsync) }
        #expect(throws: StoreError.syncFailed(Self.error(.ioErrFsync), orderKept: false)) {
            try store.placeOrder(sale: sale.id, user: "alice", nowMs: 1)
        }
        let after = try #require(try store.sale(sale.id))
        #expect(after.remaining == 2 && after.version == sale.version + 2)
        #expect(try store.orders(ofSale: sale.id).isEmpty)
        #expect(store.syncFailure == Self.error(.ioErrFsync))

        var syncs = 0
        store.syncLog = { database throws(SQLiteError) in
            syncs += 1
            try database.syncWAL()
        }
        for user in ["alice", "bob"] {
            #expect(throws: StoreError.syncFailed(Self.error(.ioErrFsync), orderKept: false)) {
                try store.placeOrder(sale: sale.id, user: user, nowMs: 2)
            }
        }
        #expect(syncs == 0)
        #expect(try store.sale(sale.id) == after)
        #expect(try store.orders(ofSale: sale.id).isEmpty && !store.hasOrder(sale: sale.id, user: "bob"))

        // A store opened again on the file in this process (a desk reopened) is stopped too.
        let reopened = try SQLiteSaleStore(path: store.database.path)
        #expect(reopened.syncFailure == Self.error(.ioErrFsync))
        #expect(throws: StoreError.syncFailed(Self.error(.ioErrFsync), orderKept: false)) {
            try reopened.placeOrder(sale: sale.id, user: "carol", nowMs: 3)
        }
        let other = try TemporaryDirectory("store-fault-other")
        defer { other.remove() }
        let elsewhere = try SQLiteSaleStore(path: other.path + "/flashsale.db")
        _ = try elsewhere.create(
            NewSale(id: "sync", title: "S", price: 1, stock: 2, startsAt: 0, endsAt: nil), nowMs: 0)
        #expect(try elsewhere.placeOrder(sale: "sync", user: "alice", nowMs: 1).user == "alice")
    }

    /// A group whose sync failed is withdrawn whole: no order of it stays, every unit is back,
    /// and later groups are refused at once, as single orders are.
    @Test func aGroupWhoseSyncFailedIsWithdrawnWholeAndStopsOrders() throws {
        defer { directory.remove() }
        let sale = try store.create(
            NewSale(id: "group", title: "S", price: 1, stock: 5, startsAt: 0, endsAt: nil), nowMs: 0)
        store.syncLog = { _ throws(SQLiteError) in throw Self.error(.ioErrFsync) }
        let group = ["ann", "bob", "ann"].map { OrderEntry(sale: sale.id, user: $0, nowMs: 1) }
        #expect(throws: StoreError.syncFailed(Self.error(.ioErrFsync), orderKept: false)) {
            try store.placeOrders(group)
        }
        #expect(try store.orders(ofSale: sale.id).isEmpty)
        #expect(try store.sale(sale.id)?.remaining == 5)
        store.syncLog = { database throws(SQLiteError) in try database.syncWAL() }
        #expect(throws: StoreError.syncFailed(Self.error(.ioErrFsync), orderKept: false)) {
            try store.placeOrders(group)
        }
        #expect(try store.placeOrders([]).isEmpty)
    }

    /// When the withdrawal cannot be written either, the order stays (it is committed), the
    /// error says so, and the inventory agrees with the rows; later orders are refused.
    @Test func aCommitThatCannotBeWithdrawnStaysAndTheErrorSaysSo() throws {
        defer { directory.remove() }
        let sale = try store.create(
            NewSale(id: "stuck", title: "S", price: 1, stock: 2, startsAt: 0, endsAt: nil), nowMs: 0)
        store.syncLog = { database throws(SQLiteError) in
            try database.execute("PRAGMA query_only = 1")  // the withdrawal's DELETE then fails
            throw Self.error(.ioErrFsync)
        }
        #expect(throws: StoreError.syncFailed(Self.error(.ioErrFsync), orderKept: true)) {
            try store.placeOrder(sale: sale.id, user: "bob", nowMs: 1)
        }
        try store.database.execute("PRAGMA query_only = 0")
        store.syncLog = { database throws(SQLiteError) in try database.syncWAL() }
        #expect(try store.orders(ofSale: sale.id).map(\.user) == ["bob"])
        #expect(try store.sale(sale.id)?.remaining == 1)
        #expect(throws: StoreError.syncFailed(Self.error(.ioErrFsync), orderKept: false)) {
            try store.placeOrder(sale: sale.id, user: "bob", nowMs: 2)
        }
    }

    /// A sync's error carries the shim's own code and SQLite's English for it, not the
    /// connection's last error ("not an error"): here, a connection without a log to sync.
    @Test func aSyncErrorCarriesItsOwnCode() throws {
        defer { directory.remove() }
        let database = try Database(path: directory.path + "/nolog.db")
        try database.execute("PRAGMA journal_mode = DELETE")
        #expect(
            throws: SQLiteError(
                resultCode: SQLITE_MISUSE, extendedResultCode: SQLITE_MISUSE,
                message: "bad parameter or other API misuse",
                sql: "fdatasync of the write-ahead log")
        ) { try database.syncWAL() }
    }

    /// A real failed fdatasync of the log (its descriptor pointed at /dev/null, which cannot be
    /// synced: EINVAL) is SQLITE_IOERR_FSYNC with the errno the VFS recorded.
    @Test func aFailedFdatasyncCarriesItsExtendedCodeAndErrno() throws {
        defer { directory.remove() }
        let path = directory.path + "/sync.db"
        let database = try Database(path: path)
        try database.execute("CREATE TABLE t (x); INSERT INTO t VALUES (1)")
        try database.syncWAL()
        let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").compactMap(Int32.init)
        let log = try #require(
            descriptors.first {
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) == path + "-wal"
            })
        let saved = fcntl(log, F_DUPFD_CLOEXEC, 0)
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer {  // SQLite's descriptor back, close-on-exec as SQLite opened it
            dup2(saved, log)
            _ = fcntl(log, F_SETFD, FD_CLOEXEC)
            close(saved)
        }
        #expect(saved >= 0 && null >= 0 && dup2(null, log) == log)
        close(null)
        #expect(
            throws: SQLiteError(
                resultCode: SQLITE_IOERR, extendedResultCode: SQLiteResultCode.ioErrFsync.rawValue,
                message: "disk I/O error",
                sql: "fdatasync of the write-ahead log", systemErrno: EINVAL)
        ) { try database.syncWAL() }
    }
}
