import Backends
import Export
import Foundation
import Sales
import Segment
import Store
import TestSupport
import Testing

@Suite struct SaleDeskTests {
    let directory: TemporaryDirectory
    var database: String { directory.path + "/flashsale.db" }
    var segment: String { directory.path + "/stock.segment" }

    init() throws {
        directory = try TemporaryDirectory("desk")
    }

    func desk() throws -> EmbeddedDesk {
        try EmbeddedDesk(databasePath: database, segmentPath: segment, nowMs: 0)
    }

    func spring(stock: Int64 = 5) -> NewSale {
        NewSale(id: "spring", title: "Spring", price: 1999, stock: stock, startsAt: 1_000, endsAt: 9_000)
    }

    @Test func creatingASaleConfiguresItsSlot() throws {
        defer { directory.remove() }
        let desk = try desk()
        let sale = try desk.create(spring(), nowMs: 10)
        let slot = desk.segment.slot(at: sale.slot)
        #expect(slot.terms()?.saleKey == StockSegment.saleKey("spring"))
        #expect(slot.remaining == 5)
        let report = try desk.report("spring", nowMs: 2_000)
        #expect(report.state == .open)
        #expect(report.segment?.remaining == 5)
        #expect(report.counters["orders"] == 0)
    }

    @Test func theReportCarriesTheInventoryVersionEveryOrderBumps() throws {
        defer { directory.remove() }
        let desk = try desk()
        try desk.create(spring(stock: 2), nowMs: 10)
        #expect(try desk.report("spring", nowMs: 2_000).version == 0)
        for user in ["a", "b"] {
            _ = try desk.store.placeOrder(sale: "spring", user: user, nowMs: 2_000)
        }
        #expect(throws: StoreError.soldOut) { try desk.store.placeOrder(sale: "spring", user: "c", nowMs: 2_000) }
        let report = try desk.report("spring", nowMs: 2_000)
        #expect(report.version == 2 && report.sold == 2 && report.state == .soldOut)
        #expect(ReportTable.details(report).contains("sold:      2 (inventory version 2)"))
    }

    @Test func reconciliationReturnsAUnitHeldByAProcessThatDied() throws {
        defer { directory.remove() }
        let desk = try desk()
        let sale = try desk.create(spring(), nowMs: 0)
        let slot = desk.segment.slot(at: sale.slot)
        // A process took a unit from the segment and died before its order committed.
        #expect(slot.takeOne())
        #expect(slot.remaining == 4)
        let result = try desk.reconcile("spring", nowMs: 5)
        #expect(result == Reconciliation(sale: "spring", segmentBefore: 4, remaining: 5))
        #expect(slot.remaining == 5)
        #expect(slot.lastReconciledMs == 5)
    }

    @Test func reconciliationFollowsCommittedOrders() throws {
        defer { directory.remove() }
        let desk = try desk()
        _ = try desk.create(spring(stock: 2), nowMs: 0)
        _ = try desk.store.placeOrder(sale: "spring", user: "ann", nowMs: 2_000)
        _ = try desk.store.placeOrder(sale: "spring", user: "bob", nowMs: 2_000)
        try desk.reconcile("spring", nowMs: 2_001)
        let report = try desk.report("spring", nowMs: 2_002)
        #expect(report.state == .soldOut)
        #expect(report.segment?.remaining == 0)
        #expect(report.segment?.soldOut == true)
        #expect(throws: StoreError.unknownSale("nope")) { try desk.reconcile("nope", nowMs: 0) }
    }

    /// A deleted or corrupted segment is rebuilt from the database, never trusted.
    @Test(arguments: ["delete", "garbage", "truncate"])
    func aDamagedSegmentIsRebuiltFromTheDatabase(_ damage: String) throws {
        defer { directory.remove() }
        do {
            let desk = try desk()
            _ = try desk.create(spring(stock: 3), nowMs: 0)
            _ = try desk.store.placeOrder(sale: "spring", user: "ann", nowMs: 2_000)
        }
        switch damage {
        case "delete": try FileManager.default.removeItem(atPath: segment)
        case "garbage": try Data(repeating: 0xAB, count: 8192).write(to: URL(fileURLWithPath: segment))
        default: try Data().write(to: URL(fileURLWithPath: segment))
        }
        let reopened = try desk()
        #expect(reopened.segment.wasReinitialised)
        let report = try reopened.report("spring", nowMs: 2_001)
        #expect(report.segment?.remaining == 2)
        #expect(report.remaining == 2)
    }

    /// The cap holds in SQLite itself, so creates racing past a count check cannot exceed it.
    @Test func theSalesAreCappedAtTheSegmentsSlots() throws {
        defer { directory.remove() }
        let desk = try desk()
        #expect(StockSegment.slotCount == 1024)
        try desk.store.database.execute(
            """
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 1022)
            INSERT INTO sales (id, slot, title, price, stock, remaining, starts_at, secret, created_at)
            SELECT 's' || i, i, 't', 1, 1, 1, 0, 'secret' || i, 0 FROM n
            """)
        let last = try desk.create(spring(), nowMs: 0)
        #expect(last.slot == 1023)
        #expect(throws: StoreError.invalid("this database holds at most 1024 sales")) {
            try desk.create(
                NewSale(id: "one-too-many", title: "t", price: 1, stock: 1, startsAt: 0, endsAt: nil), nowMs: 0)
        }
        #expect(try desk.reports(nowMs: 0).count == 1024)
    }

    /// A sale created without its slot (a create interrupted between the two) is reconciled
    /// when the next process opens the desk, so its stock is not lost to "sold out".
    @Test func aSaleWithoutItsSlotIsReconciledOnOpen() throws {
        defer { directory.remove() }
        do {
            let desk = try desk()
            _ = try desk.store.create(spring(stock: 4), nowMs: 0)
            #expect(desk.segment.slot(at: 0).terms() == nil)
        }
        let reopened = try desk()
        #expect(!reopened.segment.wasReinitialised)
        #expect(reopened.segment.slot(at: 0).remaining == 4)
        #expect(try reopened.report("spring", nowMs: 0).segment?.remaining == 4)
    }

    @Test func ordersExportAsCSVWithAHeaderAndAsJSON() throws {
        defer { directory.remove() }
        let desk = try desk()
        _ = try desk.create(spring(), nowMs: 0)
        _ = try desk.store.placeOrder(sale: "spring", user: "ann", nowMs: 1_764_000_000_000)
        _ = try desk.store.placeOrder(sale: "spring", user: #"bob, "the" buyer"#, nowMs: 1_764_000_000_001)
        let orders = try desk.store.orders(ofSale: "spring")
        #expect(
            try OrderExport.csv(orders) == """
                id,sale,user,created_at,status
                1,spring,ann,2025-11-24T16:00:00.000Z,placed
                2,spring,"bob, ""the"" buyer",2025-11-24T16:00:00.001Z,placed

                """)
        let rows = try JSONSerialization.jsonObject(with: OrderExport.json(orders)) as? [[String: Any]]
        #expect(rows?.count == 2)
        #expect(rows?.last?["user"] as? String == #"bob, "the" buyer"#)
        #expect(rows?.first?["created_at"] as? String == "2025-11-24T16:00:00.000Z")
    }
}
