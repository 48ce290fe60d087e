import Foundation
import Segment
import TestSupport
import Testing

@Suite struct AdmissionAndReconciliationTests {
    let dir: TemporaryDirectory
    let segment: StockSegment
    let other: StockSegment

    init() throws {
        dir = try TemporaryDirectory()
        segment = try StockSegment(path: dir.path + "/stock.segment", databaseID: 1)
        other = try StockSegment(path: dir.path + "/stock.segment", databaseID: 1)
    }

    @Test func aWindowAdmitsExactlyItsLimitAcrossProcessesAndThreads() {
        defer { dir.remove() }
        let slots = [segment.slot(at: 2), other.slot(at: 2)]
        let admitted = Tally()

        #expect(
            onThreads(8) { thread in
                var count = 0
                for _ in 0..<500 where slots[thread % 2].admit(window: 7, limit: 1_000) { count += 1 }
                admitted.add(count)
            })

        #expect(admitted.value == 1_000)
        #expect(slots[1].admissions(inWindow: 7) == 1_000)
        #expect(!slots[0].admit(window: 7, limit: 1_000))
        #expect(slots[0].admit(window: 7, limit: 1_001))
    }

    @Test func anOrderGivesItsAdmissionBackInItsOwnWindowOnly() {
        defer { dir.remove() }
        let slot = segment.slot(at: 3)
        #expect(slot.admit(window: 9, limit: 2) && slot.admit(window: 9, limit: 2) && !slot.admit(window: 9, limit: 2))
        slot.releaseAdmission(window: 9)
        #expect(slot.admissions(inWindow: 9) == 1)
        #expect(slot.admit(window: 9, limit: 2))
        // A token of the window before: the current window's count is not its to touch.
        slot.releaseAdmission(window: 8)
        #expect(slot.admissions(inWindow: 9) == 2)
        for _ in 0..<5 { slot.releaseAdmission(window: 9) }
        #expect(slot.admissions(inWindow: 9) == 0)
        // Never below zero, so a later window still starts from zero.
        #expect(slot.admit(window: 10, limit: 1) && !slot.admit(window: 10, limit: 1))
    }

    @Test func aWindowReleasedToZeroStillHoldsItsPlace() {
        defer { dir.remove() }
        let slot = segment.slot(at: 5)
        #expect(slot.admit(window: 20, limit: 5))
        slot.releaseAdmission(window: 20)
        #expect(slot.admissions(inWindow: 20) == 0)
        // A caller whose clock read the window before counts against window 20, not back in 19.
        #expect(slot.admit(window: 19, limit: 5))
        #expect(slot.admissions(inWindow: 20) == 1 && slot.admissions(inWindow: 19) == 0)
    }

    @Test func admissionsAndReleasesFromManyThreadsBalance() {
        defer { dir.remove() }
        let slots = [segment.slot(at: 4), other.slot(at: 4)]
        #expect(
            onThreads(8) { thread in
                for _ in 0..<500 where slots[thread % 2].admit(window: 3, limit: 10_000) {
                    slots[(thread + 1) % 2].releaseAdmission(window: 3)
                }
            })
        #expect(slots[0].admissions(inWindow: 3) == 0)
    }

    @Test func aNewWindowStartsFromZeroAndAnOldOneReadsAsEmpty() {
        defer { dir.remove() }
        let slot = segment.slot(at: 0)
        #expect(slot.admit(window: 1, limit: 1) && !slot.admit(window: 1, limit: 1))
        #expect(slot.admissions(inWindow: 2) == 0)
        #expect(slot.admit(window: 2, limit: 1))
        #expect(slot.admissions(inWindow: 2) == 1 && slot.admissions(inWindow: 1) == 0)
        #expect(!slot.admit(window: 3, limit: 0) && !slot.admit(window: 3, limit: -5))
    }

    @Test func aCallerStillInTheLastWindowCountsAgainstTheCurrentOne() {
        defer { dir.remove() }
        let slot = segment.slot(at: 1)
        #expect(slot.admit(window: 5, limit: 2) && slot.admit(window: 5, limit: 2))
        #expect(!slot.admit(window: 4, limit: 2))
        #expect(slot.admissions(inWindow: 5) == 2)
        #expect(slot.admit(window: 6, limit: 2) && !slot.admit(window: 5, limit: 1))
        #expect(slot.admissions(inWindow: 6) == 1)
        // Windows compare by wrapping difference: 0 comes after UInt32.max.
        #expect(other.slot(at: 9).admit(window: .max, limit: 1) && other.slot(at: 9).admit(window: 0, limit: 1))
    }

    @Test func exactlyOneCallerClaimsEachReconciliation() {
        defer { dir.remove() }
        let slots = [segment.slot(at: 3), other.slot(at: 3)]
        slots[0].reconcile(remaining: 0, nowMs: 10_000)
        let claims = Tally()

        #expect(
            onThreads(8) { thread in
                claims.add(slots[thread % 2].claimReconciliation(nowMs: 12_000, intervalMs: 2_000) ? 1 : 0)
            })

        #expect(claims.value == 1)
        #expect(slots[1].lastReconciledMs == 12_000)
        #expect(!slots[0].claimReconciliation(nowMs: 13_999, intervalMs: 2_000))
        #expect(slots[0].claimReconciliation(nowMs: 14_000, intervalMs: 2_000))
    }

    @Test func aCallerWithAClockReadingJustBeforeTheLastClaimDoesNotClaimAgain() {
        defer { dir.remove() }
        let slot = segment.slot(at: 5)
        #expect(slot.claimReconciliation(nowMs: 10_000, intervalMs: 2_000))
        #expect(!slot.claimReconciliation(nowMs: 9_990, intervalMs: 2_000))
    }

    @Test(arguments: [Int64.min, -1, 20_000, .max])
    func aLastTimeFarInTheFutureOrCorruptIsDueAndDoesNotTrap(last: Int64) {
        defer { dir.remove() }
        let slot = segment.slot(at: 4)
        slot.reconcile(remaining: 0, nowMs: last)
        #expect(slot.claimReconciliation(nowMs: 10_000, intervalMs: 2_000))
        #expect(slot.lastReconciledMs == 10_000)
    }

    @Test func aDeletedReplacedOrDamagedFileIsNoLongerCurrent() throws {
        defer { dir.remove() }
        let path = dir.path + "/stock.segment"
        #expect(segment.isCurrent() && other.isCurrent())

        #expect(unlink(path) == 0)
        #expect(!segment.isCurrent())
        let replacement = try StockSegment(path: path, databaseID: 1)
        #expect(replacement.wasReinitialised && replacement.isCurrent())
        #expect(!segment.isCurrent())

        #expect(SegmentFile.overwrite(path, at: 0, with: [0]))
        #expect(!replacement.isCurrent())
        #expect(truncate(path, 0) == 0)
        #expect(!replacement.isCurrent())  // checked by size, without touching the mapping
        #expect(try StockSegment(path: path, databaseID: 1).wasReinitialised)
        #expect(replacement.isCurrent())

        let forAnotherDatabase = try StockSegment(path: path, databaseID: 2)
        #expect(forAnotherDatabase.wasReinitialised && forAnotherDatabase.isCurrent())
        #expect(!replacement.isCurrent())
    }
}
