import Foundation
import Sales
import Synchronization
import TestSupport
import Testing

@testable import Segment

/// The commit queue of won orders: what goes in comes out, a place is freed exactly when
/// nobody can want it any more, one leader at a time, and no late hand touches an entry used
/// again since.
@Suite struct CommitQueueTests {
    static let me = getpid()

    static func entry(_ user: String, ticket: Int64? = nil) -> OrderEntry {
        OrderEntry(sale: "s1", user: user, nowMs: 1_000, ticket: ticket)
    }

    /// The pid of a process that ran and was reaped: no process has it now.
    static func deadPid() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        try #require(!CommitQueue.isAlive(process.processIdentifier))
        return process.processIdentifier
    }

    /// Leads, claims and completes each claimed entry with `result`.
    static func commit(_ queue: CommitQueue, with result: CommitResult, orderID: Int64 = 0) throws -> [ClaimedOrder] {
        let lease = try #require(queue.lead(pid: me, nowMs: 1_000, leaseMs: 1_000))
        defer { queue.endLead(lease) }
        let claimed = queue.claim(max: queue.limit)
        for order in claimed { queue.complete(order, with: result, orderID: orderID) }
        return claimed
    }

    /// Sets the state word of `order`'s place to `code`, as a process killed there leaves it.
    static func force(_ code: EntryState.Code, on order: QueuedOrder, in segment: StockSegment) {
        let offset = SegmentLayout.queueEntriesOffset + order.index * SegmentLayout.CommitQueueEntry.size
        let state = EntryState(code: code, pid: order.pid, tag: order.tag)
        segment.base.storeBytes(
            of: state.raw, toByteOffset: offset + SegmentLayout.CommitQueueEntry.state, as: UInt64.self)
    }

    // MARK: Entries

    @Test func anEntryComesOutAsItWentInAndItsPlaceIsFreeOnlyOnceReleased() throws {
        let fresh = try FreshSegment()
        defer { fresh.dir.remove() }
        let queue = fresh.segment.commitQueue(limit: 1)
        let sale = String(repeating: "0123456789abcdef", count: 4)
        let user = String(String.UnicodeScalarView((0..<128).compactMap { Unicode.Scalar(0x1F600 + $0) }))
        try #require(sale.utf8.count == CommitQueue.saleCapacity && user.utf8.count == CommitQueue.userCapacity)
        let entry = OrderEntry(sale: sale, user: user, nowMs: 1_700_000_000_123, ticket: 0x1234_5678_9ABC_DEF0)

        let queued = try #require(queue.enqueue(entry, pid: Self.me))
        #expect(queued.ticket == entry.ticket)
        #expect(queue.state(of: queued) == .waiting)
        let lease = try #require(queue.lead(pid: Self.me, nowMs: 2_000, leaseMs: 1_000))
        let claimed = queue.claim(max: 8)
        #expect(claimed.map(\.entry) == [entry])
        #expect(queue.state(of: queued) == .claimed)
        for order in claimed { queue.complete(order, with: .placed) }
        queue.endLead(lease)
        #expect(queue.state(of: queued) == .done(.placed))

        #expect(queue.enqueue(Self.entry("next"), pid: Self.me) == nil)  // done, but its owner has not read it
        queue.release(queued)
        #expect(queue.state(of: queued) == .lost)
        let next = try #require(queue.enqueue(Self.entry("next"), pid: Self.me))
        #expect(next.ticket != 0)
        #expect(try Self.commit(queue, with: .soldOut).map(\.entry) == [Self.entry("next", ticket: next.ticket)])
        #expect(queue.state(of: next) == .done(.soldOut))
    }

    @Test func aQueueOfNEntriesTakesNAndRefusesTheNext() throws {
        let fresh = try FreshSegment()
        defer { fresh.dir.remove() }
        let queue = fresh.segment.commitQueue(limit: 5)
        let queued = (0..<5).compactMap { queue.enqueue(Self.entry("u\($0)"), pid: Self.me) }
        #expect(Set(queued.map(\.index)) == Set(0..<5))
        #expect(queue.enqueue(Self.entry("u5"), pid: Self.me) == nil)
        #expect(queued.allSatisfy { queue.state(of: $0) == .waiting })
    }

    /// An owner that died leaves a place nobody frees by hand, whatever its state (done,
    /// filling, waiting): a full queue frees it for the next order; a live owner's stays.
    @Test func aFullQueueFreesThePlacesOfOwnersThatDied() throws {
        let fresh = try FreshSegment()
        defer { fresh.dir.remove() }
        let queue = fresh.segment.commitQueue(limit: 4)
        let owner = Process()
        owner.executableURL = URL(fileURLWithPath: "/bin/sleep")
        owner.arguments = ["60"]
        try owner.run()
        defer { if owner.isRunning { kill(owner.processIdentifier, SIGKILL) } }
        let done = try #require(queue.enqueue(Self.entry("done"), pid: owner.processIdentifier))
        #expect(try Self.commit(queue, with: .placed).count == 1)
        #expect(queue.state(of: done) == .done(.placed))
        // SIGKILL: the child inherits this thread's blocked signals, SIGTERM among them.
        kill(owner.processIdentifier, SIGKILL)
        owner.waitUntilExit()
        let dead = try Self.deadPid()
        let filling = try #require(queue.enqueue(Self.entry("filling"), pid: dead))
        Self.force(.filling, on: filling, in: fresh.segment)
        let waiting = try #require(queue.enqueue(Self.entry("waiting"), pid: dead))
        let live = try #require(queue.enqueue(Self.entry("live"), pid: Self.me))

        #expect((0..<3).allSatisfy { queue.enqueue(Self.entry("new\($0)"), pid: Self.me) != nil })
        #expect(queue.enqueue(Self.entry("refused"), pid: Self.me) == nil)
        #expect([done, filling, waiting].allSatisfy { queue.state(of: $0) == .lost })
        #expect(queue.state(of: live) == .waiting)
    }

    // MARK: Withdrawing

    @Test func aWaitingEntryIsWithdrawnAndItsPlaceIsFree() throws {
        let fresh = try FreshSegment()
        defer { fresh.dir.remove() }
        let queue = fresh.segment.commitQueue(limit: 1)
        let queued = try #require(queue.enqueue(Self.entry("u1"), pid: Self.me))
        #expect(queue.withdraw(queued) == .withdrawn)
        #expect(queue.state(of: queued) == .lost)
        #expect(try Self.commit(queue, with: .placed).isEmpty)
        #expect(queue.enqueue(Self.entry("u2"), pid: Self.me) != nil)
    }

    /// A claimed entry may be committed already: its owner leaves it to the leader, whose
    /// complete then frees it rather than marking it for nobody.
    @Test func aClaimedEntryIsAbandonedAndItsLeadersCompleteFreesIt() throws {
        let fresh = try FreshSegment()
        defer { fresh.dir.remove() }
        let queue = fresh.segment.commitQueue(limit: 1)
        let queued = try #require(queue.enqueue(Self.entry("u1"), pid: Self.me))
        let lease = try #require(queue.lead(pid: Self.me, nowMs: 1_000, leaseMs: 1_000))
        let claimed = queue.claim(max: 1)
        #expect(claimed.count == 1)
        #expect(queue.withdraw(queued) == .abandoned)
        #expect(queue.state(of: queued) == .claimed)
        #expect(queue.enqueue(Self.entry("u2"), pid: Self.me) == nil)
        for order in claimed { queue.complete(order, with: .placed) }
        queue.endLead(lease)
        #expect(queue.state(of: queued) == .lost)
        #expect(queue.enqueue(Self.entry("u2"), pid: Self.me) != nil)
    }

    @Test func withdrawingADoneEntryAnswersItsResultAndFreesIt() throws {
        let fresh = try FreshSegment()
        defer { fresh.dir.remove() }
        let queue = fresh.segment.commitQueue(limit: 1)
        let queued = try #require(queue.enqueue(Self.entry("u1"), pid: Self.me))
        #expect(try Self.commit(queue, with: .alreadyOrdered).count == 1)
        #expect(queue.withdraw(queued) == .done(.alreadyOrdered, orderID: 0))
        #expect(queue.state(of: queued) == .lost)
        #expect(queue.enqueue(Self.entry("u2"), pid: Self.me) != nil)
    }

    // MARK: Claiming

    /// Its buyer was answered when its process died: the entry is never committed after that.
    @Test func claimFreesTheWaitingEntryOfADeadOwner() throws {
        let fresh = try FreshSegment()
        defer { fresh.dir.remove() }
        let queue = fresh.segment.commitQueue(limit: 2)
        let orphan = try #require(queue.enqueue(Self.entry("orphan"), pid: try Self.deadPid()))
        _ = try #require(queue.enqueue(Self.entry("live"), pid: Self.me))
        #expect(try Self.commit(queue, with: .placed).map(\.entry.user) == ["live"])
        #expect(queue.state(of: orphan) == .lost)
        #expect(queue.enqueue(Self.entry("next"), pid: Self.me) != nil)
    }

    @Test func claimFreesAnAbandonedEntry() throws {
        let fresh = try FreshSegment()
        defer { fresh.dir.remove() }
        let queue = fresh.segment.commitQueue(limit: 1)
        let queued = try #require(queue.enqueue(Self.entry("u1"), pid: Self.me))
        let lease = try #require(queue.lead(pid: Self.me, nowMs: 1_000, leaseMs: 1_000))
        #expect(queue.claim(max: 1).count == 1)
        #expect(queue.withdraw(queued) == .abandoned)
        queue.endLead(lease)  // the leader went without completing it
        #expect(try Self.commit(queue, with: .placed).isEmpty)
        #expect(queue.state(of: queued) == .lost)
        #expect(queue.enqueue(Self.entry("u2"), pid: Self.me) != nil)
    }

    /// The entries of a leader whose lease was taken over are committed again by the next; the
    /// late leader can mark them neither before nor after the new one (the claim's epoch moved),
    /// nor give the new leader's lease back.
    @Test func entriesLeftClaimedByALeaderThatLostItsLeaseAreClaimedAgain() throws {
        let fresh = try FreshSegment()
        defer { fresh.dir.remove() }
        let queue = fresh.segment.commitQueue(limit: 4)
        let queued = try #require(queue.enqueue(Self.entry("u1"), pid: Self.me))
        let start: Int64 = 50_000
        let oldLease = try #require(queue.lead(pid: try Self.deadPid(), nowMs: start, leaseMs: 10_000))
        let first = queue.claim(max: 4)
        #expect(first.map(\.entry.user) == ["u1"])

        let after = start + CommitLease.checkAfterMs + 1
        let lease = try #require(queue.lead(pid: Self.me, nowMs: after, leaseMs: 10_000))
        let again = queue.claim(max: 4)
        #expect(again.map(\.entry) == first.map(\.entry) && again.allSatisfy(\.claimedBefore))
        for order in first { queue.complete(order, with: .failed) }  // the late leader, too early
        #expect(queue.state(of: queued) == .claimed)
        for order in again { queue.complete(order, with: .placed, orderID: 7) }
        for order in first { queue.complete(order, with: .failed) }  // the late leader, too late
        queue.endLead(oldLease)
        #expect(queue.state(of: queued) == .done(.placed))
        #expect(queue.orderID(of: queued) == 7)
        #expect(queue.lead(pid: Self.me, nowMs: after + 1, leaseMs: 10_000) == nil)
        queue.endLead(lease)
    }

    /// A leader killed while it marked an entry (between its claim's end and the result) leaves
    /// it to the next leader, which claims it again.
    @Test func anEntryLeftMarkingIsClaimedAgain() throws {
        let fresh = try FreshSegment()
        defer { fresh.dir.remove() }
        let queue = fresh.segment.commitQueue(limit: 2)
        let queued = try #require(queue.enqueue(Self.entry("u1"), pid: Self.me))
        Self.force(.marking, on: queued, in: fresh.segment)
        #expect(queue.state(of: queued) == .claimed)
        let again = try Self.commit(queue, with: .placed, orderID: 3)
        #expect(again.map(\.entry.user) == ["u1"] && again.allSatisfy(\.claimedBefore))
        #expect(queue.state(of: queued) == .done(.placed) && queue.orderID(of: queued) == 3)
    }

    /// A leader that lost its lease, its entry committed by the next leader, answered, freed
    /// and its place filled and marked again, writes nothing into that place when it wakes: not
    /// its result, not an order id.
    @Test func aLateLeaderNeverWritesIntoAPlaceItNoLongerHolds() throws {
        let fresh = try FreshSegment()
        defer { fresh.dir.remove() }
        let queue = fresh.segment.commitQueue(limit: 1)
        let old = try #require(queue.enqueue(Self.entry("old"), pid: Self.me))
        let start: Int64 = 50_000
        let lateLease = try #require(queue.lead(pid: try Self.deadPid(), nowMs: start, leaseMs: 10_000))
        let late = queue.claim(max: 1)
        let lease = try #require(queue.lead(pid: Self.me, nowMs: start + CommitLease.checkAfterMs + 1, leaseMs: 10_000))
        for order in queue.claim(max: 1) { queue.complete(order, with: .placed, orderID: 5) }
        queue.endLead(lease)
        #expect(queue.withdraw(old) == .done(.placed, orderID: 5))

        let new = try #require(queue.enqueue(Self.entry("new"), pid: Self.me))
        try #require(new.index == old.index)
        #expect(try Self.commit(queue, with: .placed, orderID: 9).map(\.entry.user) == ["new"])
        for order in late { queue.complete(order, with: .failed, orderID: 0) }
        queue.endLead(lateLease)
        #expect(queue.state(of: new) == .done(.placed))
        #expect(queue.orderID(of: new) == 9)
    }

    @Test func claimTakesAtMostMax() throws {
        let fresh = try FreshSegment()
        defer { fresh.dir.remove() }
        let queue = fresh.segment.commitQueue(limit: 8)
        for index in 0..<5 { _ = try #require(queue.enqueue(Self.entry("u\(index)"), pid: Self.me)) }
        let lease = try #require(queue.lead(pid: Self.me, nowMs: 1_000, leaseMs: 1_000))
        #expect(queue.claim(max: 0).isEmpty)
        let first = queue.claim(max: 2)
        #expect(first.count == 2)
        for order in first { queue.complete(order, with: .placed) }
        let rest = queue.claim(max: 10)
        queue.endLead(lease)
        #expect(rest.count == 3)
        #expect(Set((first + rest).map(\.entry.user)) == Set((0..<5).map { "u\($0)" }))
    }

    // MARK: The lease

    @Test func aLiveLeadersLeaseIsRefusedToOthersUntilGivenBack() throws {
        let fresh = try FreshSegment()
        defer { fresh.dir.remove() }
        let queue = fresh.segment.commitQueue(limit: 1)
        let lease = try #require(queue.lead(pid: Self.me, nowMs: 1_000, leaseMs: 5_000))
        #expect(queue.lead(pid: Self.me, nowMs: 1_001, leaseMs: 5_000) == nil)
        #expect(queue.lead(pid: Self.me, nowMs: 5_000, leaseMs: 5_000) == nil)  // old, but its holder lives
        queue.endLead(lease)
        #expect(queue.lead(pid: Self.me, nowMs: 1_002, leaseMs: 5_000) != nil)
    }

    @Test func aDeadLeadersLeaseIsTakenOverOnceOlderThanTheCheck() throws {
        let fresh = try FreshSegment()
        defer { fresh.dir.remove() }
        let queue = fresh.segment.commitQueue(limit: 1)
        let start: Int64 = 1_000
        _ = try #require(queue.lead(pid: try Self.deadPid(), nowMs: start, leaseMs: 5_000))
        #expect(queue.lead(pid: Self.me, nowMs: start + CommitLease.checkAfterMs, leaseMs: 5_000) == nil)
        #expect(queue.lead(pid: Self.me, nowMs: start + CommitLease.checkAfterMs + 1, leaseMs: 5_000) != nil)
    }

    @Test func anExpiredLeaseIsTakenOverWhateverItsHolder() throws {
        let fresh = try FreshSegment()
        defer { fresh.dir.remove() }
        let queue = fresh.segment.commitQueue(limit: 1)
        _ = try #require(queue.lead(pid: Self.me, nowMs: 1_000, leaseMs: 1_000))
        #expect(queue.lead(pid: Self.me, nowMs: 2_000, leaseMs: 1_000) == nil)
        #expect(queue.lead(pid: Self.me, nowMs: 2_001, leaseMs: 1_000) != nil)
    }

    /// The lease keeps the low 32 bits of its deadline: a lease across their wrap holds until
    /// its deadline, and a dead holder's is taken over after the check as anywhere else.
    @Test func theLeaseDeadlineHoldsAcrossTheWrapOfMilliseconds() throws {
        let fresh = try FreshSegment()
        defer { fresh.dir.remove() }
        let queue = fresh.segment.commitQueue(limit: 1)
        let start: Int64 = 3 << 32 - 300
        _ = try #require(queue.lead(pid: Self.me, nowMs: start, leaseMs: 1_000))
        #expect(queue.lead(pid: Self.me, nowMs: start + 100, leaseMs: 1_000) == nil)  // before the wrap
        #expect(queue.lead(pid: Self.me, nowMs: start + 500, leaseMs: 1_000) == nil)  // after it
        #expect(queue.lead(pid: Self.me, nowMs: start + 1_000, leaseMs: 1_000) == nil)
        let lease = try #require(queue.lead(pid: Self.me, nowMs: start + 1_001, leaseMs: 1_000))
        queue.endLead(lease)

        let near: Int64 = 5 << 32 - 10
        _ = try #require(queue.lead(pid: try Self.deadPid(), nowMs: near, leaseMs: 1_000))
        #expect(queue.lead(pid: Self.me, nowMs: near + CommitLease.checkAfterMs, leaseMs: 1_000) == nil)
        #expect(queue.lead(pid: Self.me, nowMs: near + CommitLease.checkAfterMs + 1, leaseMs: 1_000) != nil)
    }

    // MARK: Late hands

    /// A leader that completes an entry after it was released and its place used again must
    /// not mark the new entry; nor may its old owner take the new one out.
    @Test func aStaleClaimOrQueuedOrderLeavesTheNewEntryInItsPlaceAlone() throws {
        let fresh = try FreshSegment()
        defer { fresh.dir.remove() }
        let queue = fresh.segment.commitQueue(limit: 1)
        let old = try #require(queue.enqueue(Self.entry("old"), pid: Self.me))
        let stale = try Self.commit(queue, with: .placed)
        #expect(stale.count == 1)
        queue.release(old)
        let new = try #require(queue.enqueue(Self.entry("new"), pid: Self.me))
        try #require(new.index == old.index)

        for order in stale { queue.complete(order, with: .failed) }
        #expect(queue.withdraw(old) == .lost)
        queue.release(old)
        #expect(queue.state(of: new) == .waiting)
        let lease = try #require(queue.lead(pid: Self.me, nowMs: 1_000, leaseMs: 1_000))
        #expect(queue.claim(max: 1).map(\.entry.user) == ["new"])
        for order in stale { queue.complete(order, with: .failed) }
        queue.endLead(lease)
        #expect(queue.state(of: new) == .claimed)
    }

    // MARK: Processes and threads

    /// Two processes map the same file at different addresses: an entry, its order id, its bell
    /// and the futex wake all cross between the mappings.
    @Test func twoMappingsOfTheFileShareEntriesAndBells() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/stock.segment"
        let ownerQueue = try StockSegment(path: path, databaseID: 1).commitQueue(limit: 4)
        let leaderSegment = try StockSegment(path: path, databaseID: 1)
        #expect(!leaderSegment.wasReinitialised)
        let leaderQueue = leaderSegment.commitQueue(limit: 4)

        let queued = try #require(ownerQueue.enqueue(Self.entry("u1", ticket: 7), pid: Self.me))
        let seen = ownerQueue.bell(of: queued)
        #expect(try Self.commit(leaderQueue, with: .placed, orderID: 42).map(\.entry) == [Self.entry("u1", ticket: 7)])
        #expect(ownerQueue.bell(of: queued) == seen &+ 1)
        #expect(ownerQueue.state(of: queued) == .done(.placed))
        #expect(ownerQueue.orderID(of: queued) == 42)
        #expect(onThreads(1, within: 20) { _ in ownerQueue.wait(for: queued, after: seen, timeoutMs: 60_000) })
        ownerQueue.release(queued)

        // A leader that ends its lease wakes the owner of an entry still waiting, to lead next.
        let next = try #require(ownerQueue.enqueue(Self.entry("u2"), pid: Self.me))
        let current = ownerQueue.bell(of: next)
        let woken = onThreads(2, within: 20) { index in
            if index == 0 {
                ownerQueue.wait(for: next, after: current, timeoutMs: 60_000)
            } else if let lease = leaderQueue.lead(pid: Self.me, nowMs: 1_000, leaseMs: 1_000) {
                leaderQueue.endLead(lease)
            }
        }
        #expect(woken)
        #expect(ownerQueue.bell(of: next) == current &+ 1)
        #expect(ownerQueue.state(of: next) == .waiting)
    }

    /// A group wakes the owners it answers and one owner still waiting, to lead next; no other:
    /// a crowd of waiters is not woken for every group.
    @Test func aGroupRingsTheBellsOfItsEntriesAndOfOneNextLeader() throws {
        let fresh = try FreshSegment()
        defer { fresh.dir.remove() }
        let queue = fresh.segment.commitQueue(limit: 8)
        let lease = try #require(queue.lead(pid: Self.me, nowMs: 1_000, leaseMs: 1_000))
        let answered = try ["a", "b"].map { try #require(queue.enqueue(Self.entry($0), pid: Self.me)) }
        let group = queue.claim(max: queue.limit)
        let later = try ["c", "d", "e"].map { try #require(queue.enqueue(Self.entry($0), pid: Self.me)) }
        let before = (answered + later).map { queue.bell(of: $0) }

        #expect(group.map(\.entry.user).sorted() == ["a", "b"])
        for order in group { queue.complete(order, with: .placed, orderID: order.entry.user == "a" ? 11 : 12) }
        queue.endLead(lease)

        let rung = zip(answered + later, before).map { queue.bell(of: $0.0) &- $0.1 }
        #expect(rung[..<2] == [1, 1], "the answered owners' bells rang once each")
        #expect(rung[2...].sorted() == [0, 0, 1], "one waiting owner's bell rang, to lead next: \(rung)")
        #expect(answered.map { queue.orderID(of: $0) } == [11, 12])
        #expect(later.allSatisfy { queue.state(of: $0) == .waiting })
    }

    /// What the leader completed and what the owners put in and saw, across threads.
    final class Ledger: Sendable {
        /// Every entry the leader completed, by user.
        let completed = Mutex<[String: [OrderEntry]]>([:])
        /// Each owner's entry (with its ticket) and the result it read, by user.
        let owned = Mutex<[String: (entry: OrderEntry, state: QueuedState)]>([:])
        let leadsRefused = Mutex(0)
        /// How many owners have stopped: once all have, the leader stops too.
        let ownersDone = Mutex(0)
        /// Entries the owners hold (counted after a place is taken, before it is given back),
        /// and the most at once: never above the queue's limit.
        let held = Mutex((now: 0, most: 0))
    }

    /// Owners on many threads keep up to 16 entries each in a queue of 64 (so it fills), one
    /// leader commits in groups: every entry is completed exactly once, as it went in.
    @Test func manyOwnersAndALeaderCompleteEveryEntryExactlyOnce() throws {
        let fresh = try FreshSegment()
        defer { fresh.dir.remove() }
        let queue = fresh.segment.commitQueue(limit: 64)
        let (owners, perOwner, window) = (8, 200, 16)
        let ledger = Ledger()
        let deadline = ContinuousClock.now + .seconds(60)

        let finished = onThreads(owners + 1, within: 90) { thread in
            guard thread < owners else {
                Self.lead(queue, owners: owners, ledger: ledger, deadline: deadline)
                return
            }
            Self.own(queue, thread: thread, count: perOwner, window: window, ledger: ledger, deadline: deadline)
            ledger.ownersDone.withLock { $0 += 1 }
        }

        #expect(finished)
        #expect(ledger.leadsRefused.withLock { $0 } == 0)
        let held = ledger.held.withLock { $0 }
        #expect(held.now == 0 && held.most <= queue.limit, "\(held.most) entries held at once")
        let completed = ledger.completed.withLock { $0 }
        let owned = ledger.owned.withLock { $0 }
        #expect(owned.count == owners * perOwner)
        #expect(completed.count == owners * perOwner)
        #expect(owned.values.allSatisfy { $0.state == .done(.placed) })
        let wrong = owned.filter { completed[$0.key] != [$0.value.entry] }.keys.sorted()
        #expect(wrong.count == 0, "not completed exactly once as they went in: \(wrong.prefix(5))")
    }

    private static func own(
        _ queue: CommitQueue, thread: Int, count: Int, window: Int, ledger: Ledger, deadline: ContinuousClock.Instant
    ) {
        var next = 0
        var waiting: [(entry: OrderEntry, order: QueuedOrder)] = []
        for _ in 0..<1_000_000 {
            guard (next < count || !waiting.isEmpty) && ContinuousClock.now < deadline else { return }
            let seen = waiting.first.map { queue.bell(of: $0.order) }
            var moved = false
            while next < count && waiting.count < window {
                var entry = OrderEntry(sale: "s\(thread)", user: "u\(thread)-\(next)", nowMs: Int64(next))
                guard let order = queue.enqueue(entry, pid: me) else { break }
                ledger.held.withLock { held in
                    held.now += 1
                    held.most = max(held.most, held.now)
                }
                entry.ticket = order.ticket
                waiting.append((entry, order))
                next += 1
                moved = true
            }
            var still: [(entry: OrderEntry, order: QueuedOrder)] = []
            for item in waiting {
                let state = queue.state(of: item.order)
                guard state != .waiting && state != .claimed else {
                    still.append(item)
                    continue
                }
                ledger.owned.withLock { $0[item.entry.user] = (item.entry, state) }
                ledger.held.withLock { $0.now -= 1 }
                queue.release(item.order)
                moved = true
            }
            waiting = still
            if !moved, let first = waiting.first, let seen { queue.wait(for: first.order, after: seen, timeoutMs: 10) }
        }
    }

    private static func lead(_ queue: CommitQueue, owners: Int, ledger: Ledger, deadline: ContinuousClock.Instant) {
        for _ in 0..<10_000_000 {
            guard ledger.ownersDone.withLock({ $0 }) < owners && ContinuousClock.now < deadline else { return }
            guard let lease = queue.lead(pid: me, nowMs: 1_000, leaseMs: 600_000) else {
                ledger.leadsRefused.withLock { $0 += 1 }
                return
            }
            let group = queue.claim(max: 16)
            for order in group {
                ledger.completed.withLock { $0[order.entry.user, default: []].append(order.entry) }
                queue.complete(order, with: .placed)
            }
            queue.endLead(lease)
            if group.isEmpty { sched_yield() }
        }
    }
}
