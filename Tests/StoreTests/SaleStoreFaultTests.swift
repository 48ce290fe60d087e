import TestSupport
import Testing

@testable import Store

/// A full disk or a failing write is a fault of the moment: the order fails with a transient
/// error, changes nothing, and the same order succeeds once space returns.
@Suite struct SaleStoreFaultTests {
    let directory: TemporaryDirectory
    let store: SaleStore

    init() throws {
        directory = try TemporaryDirectory("store-fault")
        store = try SaleStore(path: directory.path + "/flashsale.db")
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

    @Test(arguments: [
        (SQLiteResultCode.busy, true), (.locked, true), (.full, true), (.ioErr, true), (.ioErrWrite, true),
        (.ioErrFsync, true), (.ioErrShmSize, true), (.ioErrData, false), (.ioErrCorruptFS, false),
        (.corrupt, false), (.constraintUnique, false), (.error, false), (.readOnly, false), (.notADB, false),
    ])
    func faultsOfTheMomentAreTransient(code: SQLiteResultCode, transient: Bool) {
        defer { directory.remove() }
        #expect(Self.error(code).isTransient == transient)
        #expect(StoreError.database(Self.error(code)).isTransient == transient)
        // BuyingContext answers 503 `busy` for what `isBusy` says.
        #expect(StoreError.database(Self.error(code)).isBusy == transient)
        #expect(StoreError.soldOut.isTransient == false && StoreError.alreadyOrdered.isBusy == false)
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
        guard case .database(let sqlite) = error else { Issue.record("\(error)"); return }
        #expect(sqlite.code == .full && sqlite.isDiskFull && error.isTransient)

        try store.database.execute("PRAGMA max_page_count = 1000000")
        let order = try store.placeOrder(sale: sale.id, user: "user\(placed)", nowMs: 2)
        #expect(try store.orders(ofSale: sale.id).last == order)
        #expect(try store.sale(sale.id)?.remaining == 100_000 - Int64(placed) - 1)
    }

    /// A commit that landed but whose sync failed is withdrawn: the buyer is refused with a
    /// transient error and finds nothing changed but the version; the next try buys.
    @Test func aCommitWhoseSyncFailsIsWithdrawn() throws {
        defer { directory.remove() }
        let sale = try store.create(
            NewSale(id: "sync", title: "S", price: 1, stock: 2, startsAt: 0, endsAt: nil), nowMs: 0)
        store.syncLog = { _ throws(SQLiteError) in throw Self.error(.ioErrFsync) }
        #expect(throws: StoreError.database(Self.error(.ioErrFsync))) {
            try store.placeOrder(sale: sale.id, user: "alice", nowMs: 1)
        }
        let after = try #require(try store.sale(sale.id))
        #expect(after.remaining == 2 && after.version == sale.version + 2)
        #expect(try store.orders(ofSale: sale.id).isEmpty)

        store.syncLog = { database throws(SQLiteError) in try database.syncWAL() }
        let order = try store.placeOrder(sale: sale.id, user: "alice", nowMs: 2)
        #expect(try store.orders(ofSale: sale.id) == [order])
        #expect(try store.sale(sale.id)?.remaining == 1)
    }

    /// When the withdrawal cannot be written either, the order stays (it is committed) and
    /// the next try hears that the user already ordered; the inventory agrees with the rows.
    @Test func aCommitThatCannotBeWithdrawnStaysAndIsAlreadyOrdered() throws {
        defer { directory.remove() }
        let sale = try store.create(
            NewSale(id: "stuck", title: "S", price: 1, stock: 2, startsAt: 0, endsAt: nil), nowMs: 0)
        store.syncLog = { database throws(SQLiteError) in
            try database.execute("PRAGMA query_only = 1")  // the withdrawal's DELETE then fails
            throw Self.error(.ioErrFsync)
        }
        #expect(throws: StoreError.database(Self.error(.ioErrFsync))) {
            try store.placeOrder(sale: sale.id, user: "bob", nowMs: 1)
        }
        try store.database.execute("PRAGMA query_only = 0")
        store.syncLog = { database throws(SQLiteError) in try database.syncWAL() }
        #expect(try store.orders(ofSale: sale.id).map(\.user) == ["bob"])
        #expect(try store.sale(sale.id)?.remaining == 1)
        #expect(throws: StoreError.alreadyOrdered) { try store.placeOrder(sale: sale.id, user: "bob", nowMs: 2) }
    }
}
