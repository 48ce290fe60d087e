import Foundation
import Segment
import Synchronization
import TestSupport
import Testing

@Suite struct AccountLeasesTests {
    /// Keys that all start at the same word but differ in their fingerprints.
    static func neighbours(_ count: Int) -> [UInt64] {
        (0..<UInt64(count)).map { 77 + ($0 + 1) << 40 }
    }

    @Test func aSecondRequestOfTheAccountIsRefusedUntilTheFirstGivesItBack() throws {
        let table = try FreshSegment()
        defer { table.dir.remove() }
        guard case .acquired(let lease) = table.segment.accountLeases.acquire(42, nowMs: 1_000, leaseMs: 10_000) else {
            Issue.record("the first request did not get the lease")
            return
        }
        #expect(table.segment.accountLeases.acquire(42, nowMs: 1_001, leaseMs: 10_000) == .busy)
        #expect(table.segment.accountLeases.acquire(43, nowMs: 1_001, leaseMs: 10_000) != .busy)  // another account
        table.segment.accountLeases.release(lease)
        #expect(table.segment.accountLeases.acquire(42, nowMs: 1_002, leaseMs: 10_000) != .busy)
    }

    /// A process that dies holding a lease locks its account out only until the lease ends.
    @Test func aLeaseNobodyGivesBackEndsByItself() throws {
        let table = try FreshSegment()
        defer { table.dir.remove() }
        _ = table.segment.accountLeases.acquire(42, nowMs: 5_000, leaseMs: 1_000)
        #expect(table.segment.accountLeases.acquire(42, nowMs: 5_900, leaseMs: 1_000) == .busy)
        #expect(table.segment.accountLeases.acquire(42, nowMs: 6_020, leaseMs: 1_000) != .busy)
    }

    /// A lease as long as the longest (an account's rest after an admission, two windows of an
    /// hour and a quarter) holds to its end, to within a tick, and then ends.
    @Test func theLongestLeaseHoldsToItsEnd() throws {
        let table = try FreshSegment()
        defer { table.dir.remove() }
        let leases = table.segment.spentChallenges
        let start: Int64 = 1_800_000_000_015
        _ = leases.acquire(42, nowMs: start, leaseMs: leases.maxLeaseMs)
        for now in [
            start + 1, start + leases.maxLeaseMs / 2, start + leases.maxLeaseMs - AccountLeases.tickMs,
        ] {
            #expect(leases.acquire(42, nowMs: now, leaseMs: 1_000) == .busy)
        }
        let after = start + leases.maxLeaseMs + 2 * AccountLeases.tickMs
        #expect(leases.acquire(42, nowMs: after, leaseMs: 1_000) != .busy)
    }

    /// Deadlines are kept modulo about 74 hours of 16 ms ticks: a lease across the wrap is
    /// still live, and ends on time.
    @Test func aLeaseAcrossTheWrapOfTheDeadlineClockHoldsAndEnds() throws {
        let table = try FreshSegment()
        defer { table.dir.remove() }
        let cycle: Int64 = 16 << 24
        let start = 3 * cycle - 200
        _ = table.segment.accountLeases.acquire(9, nowMs: start, leaseMs: 1_000)
        #expect(table.segment.accountLeases.acquire(9, nowMs: start + 500, leaseMs: 1_000) == .busy)  // after the wrap
        #expect(table.segment.accountLeases.acquire(9, nowMs: start + 1_040, leaseMs: 1_000) != .busy)
    }

    /// A lease nobody gave back nor cleared (its process killed) looks live again when the
    /// deadline clock comes round, but in the accounts table for its own longest lease, a
    /// minute, not the spent-challenges table's hours: ten minutes before, the account is free.
    @Test func aLeftLeaseComingRoundLocksAnAccountOutForAMinuteAtMost() throws {
        let table = try FreshSegment()
        defer { table.dir.remove() }
        let cycle: Int64 = 16 << 24
        let start: Int64 = 1_800_000_000_000
        for leases in [table.segment.accountLeases, table.segment.spentChallenges] {
            _ = leases.acquire(42, nowMs: start, leaseMs: 1_000)
        }
        let round = start + cycle - 10 * 60_000
        #expect(table.segment.accountLeases.maxLeaseMs == 60_000)
        #expect(table.segment.accountLeases.acquire(42, nowMs: round, leaseMs: 1_000) != .busy)
        #expect(table.segment.spentChallenges.acquire(42, nowMs: round, leaseMs: 1_000) == .busy)
    }

    /// A key that only one thread uses is never told another request holds it, however hard
    /// other keys fight over its words: a claim lost to them a few times is `contended`.
    @Test func claimsLostToOtherKeysAreContendedNeverBusy() throws {
        let table = try FreshSegment()
        defer { table.dir.remove() }
        let leases = table.segment.spentChallenges
        let keys = Self.neighbours(8)
        let busy = Tally()
        let contended = Tally()
        let granted = Tally()
        #expect(
            onThreads(keys.count) { index in
                for _ in 0..<50_000 {
                    switch leases.acquire(keys[index], nowMs: 1_000, leaseMs: 60_000) {
                    case .acquired(let lease):
                        granted.add(1)
                        leases.release(lease)
                    case .busy: busy.add(1)
                    case .contended: contended.add(1)
                    case .tableFull, .unavailable: break
                    }
                }
            })
        #expect(busy.value == 0, "\(contended.value) contended")
        #expect(granted.value > 1_000)
    }

    @Test func aFullNeighbourhoodLetsTheRequestThroughAndFreesWithTime() throws {
        let table = try FreshSegment()
        defer { table.dir.remove() }
        let keys = Self.neighbours(AccountLeases.wordsPerKey + 1)
        for key in keys.dropLast() {
            guard case .acquired = table.segment.accountLeases.acquire(key, nowMs: 0, leaseMs: 1_000) else {
                Issue.record("key \(key) found no word")
                return
            }
        }
        #expect(table.segment.accountLeases.acquire(keys.last!, nowMs: 10, leaseMs: 1_000) == .tableFull)
        // Their leases end; their words are taken again.
        if case .acquired = table.segment.accountLeases.acquire(keys.last!, nowMs: 1_100, leaseMs: 1_000) {
        } else {
            Issue.record("an ended lease's word was not reused")
        }
    }

    /// Threads hammering one account never hold its lease two at a time, and do get it.
    @Test func neverTwoHoldersAtOnce() throws {
        let table = try FreshSegment()
        defer { table.dir.remove() }
        let holders = Atomic<Int>(0)
        let most = Atomic<Int>(0)
        let granted = Tally()
        let leases = table.segment.accountLeases
        #expect(
            onThreads(8) { _ in
                for round in 0..<2_000 {
                    guard case .acquired(let lease) = leases.acquire(7, nowMs: 1_000, leaseMs: 60_000) else {
                        continue
                    }
                    let now = holders.add(1, ordering: .sequentiallyConsistent).newValue
                    _ = most.max(now, ordering: .relaxed)
                    if round % 3 == 0 { sched_yield() }
                    holders.subtract(1, ordering: .sequentiallyConsistent)
                    granted.add(1)
                    leases.release(lease)
                }
            })
        #expect(most.load(ordering: .relaxed) == 1)
        #expect(granted.value > 100)
    }
}
