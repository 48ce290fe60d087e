import Foundation
import Sales
import Segment
import TestSupport
import Testing

@Suite struct SaleSlotTests {
    /// Two mappings of one fresh segment file, as two processes would have.
    struct TwoMappings {
        let dir: TemporaryDirectory
        let first: StockSegment
        let second: StockSegment

        init() throws {
            dir = try TemporaryDirectory()
            first = try StockSegment(path: dir.path + "/stock.segment", databaseID: 1)
            second = try StockSegment(path: dir.path + "/stock.segment", databaseID: 1)
        }
    }

    static func sale(stock: Int64) -> StockTerms {
        StockTerms(saleKey: StockSegment.saleKey("s1"), stock: stock, startMs: 0, endMs: 1)
    }

    @Test func takeOneNeverGoesBelowZeroAcrossTwoMappings() throws {
        let mappings = try TwoMappings()
        defer { mappings.dir.remove() }
        #expect(!mappings.second.wasReinitialised)
        mappings.first.slot(at: 9).configure(Self.sale(stock: 1000), remaining: 1000, nowMs: 1)
        let slots = [mappings.first.slot(at: 9), mappings.second.slot(at: 9)]
        let successes = Tally()

        let finished = onThreads(8) { thread in
            var taken = 0
            while slots[thread % 2].takeOne() { taken += 1 }
            successes.add(taken)
        }

        #expect(finished)
        #expect(successes.value == 1000)
        for slot in slots {
            #expect(slot.remaining == 0 && slot.isSoldOut)
            #expect(!slot.takeOne())
        }
    }

    @Test func concurrentTakesAndGiveBacksLeaveTheFlagMatchingRemaining() throws {
        let mappings = try TwoMappings()
        defer { mappings.dir.remove() }
        mappings.first.slot(at: 0).configure(Self.sale(stock: 2), remaining: 2, nowMs: 1)
        let slots = [mappings.first.slot(at: 0), mappings.second.slot(at: 0)]

        #expect(
            onThreads(8) { thread in
                for _ in 0..<20_000 where slots[thread % 2].takeOne() { slots[(thread + 1) % 2].giveBack() }
            })
        #expect(slots[1].remaining == 2 && !slots[1].isSoldOut)

        #expect(slots[0].takeOne() && slots[1].takeOne())
        #expect(slots[1].remaining == 0 && slots[0].isSoldOut)
    }

    @Test func giveBackRestoresAUnitClearsSoldOutAndNeverExceedsTheStock() throws {
        let mappings = try TwoMappings()
        defer { mappings.dir.remove() }
        let slot = mappings.first.slot(at: 1)
        slot.configure(Self.sale(stock: 1), remaining: 1, nowMs: 5)
        slot.increment(.orders)

        #expect(slot.takeOne())
        #expect(slot.remaining == 0 && slot.isSoldOut)
        #expect(!slot.takeOne())
        slot.giveBack()
        #expect(slot.remaining == 1 && !slot.isSoldOut)
        slot.giveBack()
        #expect(slot.remaining == 1 && !slot.isSoldOut)
        #expect(slot.terms() == Self.sale(stock: 1))
        #expect(slot.lastReconciledMs == 5 && slot.count(.orders) == 1)
        #expect(slot.takeOne() && !slot.takeOne())
    }

    @Test func reconcileSetsRemainingAndSoldOutConsistently() throws {
        let mappings = try TwoMappings()
        defer { mappings.dir.remove() }
        let slot = mappings.first.slot(at: 2)
        let other = mappings.second.slot(at: 2)
        slot.configure(Self.sale(stock: 10), remaining: 10, nowMs: 1)

        slot.reconcile(remaining: 0, nowMs: 2)
        #expect(other.remaining == 0 && other.isSoldOut && other.lastReconciledMs == 2)
        slot.reconcile(remaining: 3, nowMs: 3)
        #expect(other.remaining == 3 && !other.isSoldOut && other.lastReconciledMs == 3)
        slot.reconcile(remaining: -4, nowMs: 4)
        #expect(other.remaining == 0 && other.isSoldOut && other.lastReconciledMs == 4)
        slot.reconcile(remaining: 99, nowMs: 5)
        #expect(other.remaining == 10 && !other.isSoldOut)
        #expect(other.terms() == Self.sale(stock: 10))
    }

    @Test func configureClampsRemainingAndSetsSoldOut() throws {
        let mappings = try TwoMappings()
        defer { mappings.dir.remove() }
        let slot = mappings.first.slot(at: 3)
        slot.configure(Self.sale(stock: 5), remaining: -1, nowMs: 1)
        #expect(slot.remaining == 0 && slot.isSoldOut && !slot.takeOne())
        slot.configure(Self.sale(stock: 5), remaining: 5, nowMs: 2)
        #expect(slot.remaining == 5 && !slot.isSoldOut)
    }

    @Test func anUnconfiguredSlotHasNoConfigurationAndNothingToTake() throws {
        let mappings = try TwoMappings()
        defer { mappings.dir.remove() }
        let slot = mappings.first.slot(at: StockSegment.slotCount - 1)
        #expect(slot.terms() == nil)
        #expect(!slot.takeOne())
        let zero = StockTerms(saleKey: 0, stock: 0, startMs: 0, endMs: 0)
        slot.configure(zero, remaining: 0, nowMs: 0)
        #expect(slot.terms() == zero)
    }

    @Test func countersIncrementAcrossTwoMappings() throws {
        let mappings = try TwoMappings()
        defer { mappings.dir.remove() }
        let slots = [mappings.first.slot(at: 4), mappings.second.slot(at: 4)]

        #expect(
            onThreads(4) { thread in
                for _ in 0..<10_000 { slots[thread % 2].increment(.attempts) }
                slots[thread % 2].increment(.rejectedOther)
            })

        for slot in slots {
            #expect(slot.count(.attempts) == 40_000 && slot.count(.rejectedOther) == 4)
            #expect(SaleCounter.allCases.filter { slot.count($0) != 0 } == [.attempts, .rejectedOther])
        }
        #expect(mappings.first.slot(at: 5).count(.attempts) == 0)
    }

    @Test func countersRestartWhenTheSlotChangesSale() throws {
        let mappings = try TwoMappings()
        defer { mappings.dir.remove() }
        let slot = mappings.first.slot(at: 6)
        slot.configure(Self.sale(stock: 5), remaining: 5, nowMs: 1)
        slot.increment(.orders)
        slot.configure(Self.sale(stock: 6), remaining: 6, nowMs: 2)
        #expect(slot.count(.orders) == 1)

        let another = StockTerms(saleKey: StockSegment.saleKey("s2"), stock: 5, startMs: 0, endMs: 1)
        slot.configure(another, remaining: 5, nowMs: 3)
        #expect(slot.count(.orders) == 0 && slot.terms() == another)
    }
}
