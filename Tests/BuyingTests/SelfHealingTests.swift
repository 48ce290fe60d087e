import Buying
import FastCGI
import Foundation
import Segment
import TestSupport
import Testing

/// The segment is only a gate: a unit held by a dead process comes back without an operator,
/// and a deleted or corrupted segment file never sells more than SQLite holds.
@Suite struct SelfHealingTests {
    @Test func aUnitHeldByADeadProcessComesBackAtTheNextReconciliation() throws {
        let shop = try Shop(reconcileIntervalMs: 2_000)
        try shop.createSale("tiny", stock: 1)
        // A process took the unit from the segment, then died before writing the order.
        #expect(try shop.state(of: "tiny").slot.takeOne())

        let refused = try shop.buy("alice", sale: "tiny")
        #expect(refused.status == .conflict && refused.errorCode == "sold_out")
        shop.clock.advance(by: 2_000)
        #expect(try shop.buy("alice", sale: "tiny").status == .created)
        let state = try shop.state(of: "tiny")
        #expect(state.orders.count == 1 && state.sale.remaining == 0 && state.slot.remaining == 0)
    }

    @Test func aProcessStartingReconcilesEveryUnendedSale() throws {
        let shop = try Shop()
        try shop.createSale("tiny", stock: 1)
        #expect(try shop.state(of: "tiny").slot.takeOne())

        _ = try BuyingContext(settings: shop.context.settings)
        #expect(try shop.state(of: "tiny").slot.remaining == 1)
    }

    @Test func aDeletedSegmentIsRebuiltFromTheDatabaseAndNothingOversells() throws {
        let shop = try Shop(reconcileIntervalMs: 1_000)
        try shop.createSale("spring", stock: 4)
        #expect(try shop.buy("u1", sale: "spring").status == .created)

        #expect(unlink(shop.data.segment) == 0)
        #expect(try shop.buy("u2", sale: "spring").status == .created)
        shop.clock.advance(by: 1_000)
        #expect(try shop.buy("u3", sale: "spring").status == .created)
        #expect(FileManager.default.fileExists(atPath: shop.data.segment))
        let rebuilt = try shop.state(of: "spring")
        #expect(rebuilt.sale.remaining == 1 && rebuilt.slot.remaining == 1)

        let answers = try (4...9).map { try shop.buy("u\($0)", sale: "spring").status }
        #expect(answers.filter { $0 == .created }.count == 1)
        let state = try shop.state(of: "spring")
        #expect(state.orders.count == 4 && state.sale.remaining == 0)
    }

    @Test(arguments: [
        (SegmentFile.Field.remaining, [UInt8](repeating: 0x7F, count: 7)),  // a huge remaining stock
        (SegmentFile.Field.checksum, [UInt8](repeating: 0xA5, count: 8)),  // a configuration that no longer checks
        (SegmentFile.Field.stock, [UInt8](repeating: 0xFF, count: 8)),  // a stock of -1
        (0, [UInt8](repeating: 0, count: 256)),  // the whole slot wiped
    ])
    func aCorruptedSlotNeverSellsMoreThanTheDatabaseHolds(offset: Int, bytes: [UInt8]) throws {
        let shop = try Shop(reconcileIntervalMs: 1_000)
        let sale = try shop.createSale("spring", stock: 3)
        #expect(try shop.buy("u0", sale: "spring").status == .created)

        #expect(SegmentFile.overwrite(shop.data.segment, at: SegmentFile.slotField(sale.slot, offset), with: bytes))
        var created = 0
        for round in 0..<3 {
            created += try (1...4).map { try shop.buy("r\(round)u\($0)", sale: "spring") }
                .filter { $0.status == .created }.count
            shop.clock.advance(by: 1_000)
        }

        #expect(created == 2)
        let state = try shop.state(of: "spring")
        #expect(state.orders.count == 3 && state.sale.remaining == 0)
        #expect(state.slot.remaining == 0 && state.slot.isSoldOut)
    }
}
