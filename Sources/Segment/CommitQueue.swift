import Atomics
import CProcessShims
import Glibc
import Sales

private typealias Field = SegmentLayout.CommitQueueEntry

/// The bounded queue of won orders in the segment, shared by every order process: a buyer's
/// process puts its order in and waits; whoever holds the commit lease takes every waiting entry
/// and commits them as one group (``GroupCommitter`` in Backends), then marks each entry with
/// its result and wakes their owners, each on its own entry's bell, and one owner still waiting
/// to lead next: a group wakes the processes it answers, not every process that waits.
///
/// Each entry's state word says what it is (free, being filled, waiting, claimed by a leader,
/// abandoned by its owner, or done with a result), whose it is (the owner's pid) and which use
/// of the entry it is (a random tag); every change is a compare-and-swap of the whole word, so a
/// process that took too long cannot touch an entry used again since.
///
/// A view that keeps its `StockSegment` (and so the mapping) alive, touching it only through
/// atomics.
public struct CommitQueue: Sendable {
    let segment: StockSegment
    /// How many entries are used, from the first: ``SegmentLayout/queueCapacity`` at most.
    public let limit: Int

    /// The most entries a queue can use.
    public static let capacity = SegmentLayout.queueCapacity
    /// The longest sale id and user id (in UTF-8 bytes) an entry holds.
    public static let saleCapacity = Field.saleCapacity
    public static let userCapacity = Field.userCapacity

    init(segment: StockSegment, limit: Int) {
        precondition((1...Self.capacity).contains(limit), "a commit queue of \(limit) entries (1 to \(Self.capacity))")
        self.segment = segment
        self.limit = limit
    }

    /// Puts `entry` in a free place as `pid`'s, waiting to be committed; nil when every place is
    /// taken, once the places of owners that died have been freed. The entry's `ticket` is set.
    public func enqueue(_ entry: OrderEntry, pid: Int32) -> QueuedOrder? {
        let sale = Array(entry.sale.utf8)
        let user = Array(entry.user.utf8)
        precondition(sale.count <= Self.saleCapacity && user.count <= Self.userCapacity, "an order too long to queue")
        let tag = UInt32.random(in: 1...UInt32.max)
        let filling = EntryState(code: .filling, pid: pid, tag: tag)
        for pass in 0..<2 {
            if pass == 1 && freeDeadOwners() == 0 { break }
            let start = Int(UInt32(truncatingIfNeeded: pid) &* 2_654_435_761 % UInt32(limit))
            for step in 0..<limit {
                let index = (start + step) % limit
                let state = word(index, Field.state)
                guard state.load(ordering: .relaxed) == 0 else { continue }
                // Acquiring: the place is ours only once the swap succeeds; what we write after is ours.
                guard state.compareExchange(expected: 0, desired: filling.raw, ordering: .acquiring).exchanged else {
                    continue
                }
                let ticket = entry.ticket ?? Int64.random(in: 1...Int64.max)
                word(index, Field.ticket).store(UInt64(bitPattern: ticket), ordering: .relaxed)
                word(index, Field.nowMs).store(UInt64(bitPattern: entry.nowMs), ordering: .relaxed)
                word(index, Field.lengths).store(UInt64(sale.count) << 32 | UInt64(user.count), ordering: .relaxed)
                storeBytes(sale, index: index, at: Field.sale)
                storeBytes(user, index: index, at: Field.user)
                let waiting = EntryState(code: .waiting, pid: pid, tag: tag)
                // Releasing: the fields above are in place before a leader can see the entry waiting.
                state.store(waiting.raw, ordering: .releasing)
                return QueuedOrder(index: index, pid: waiting.pid, tag: tag, ticket: ticket)
            }
        }
        return nil
    }

    /// Where `order` stands: still waiting or claimed, done with its result, or lost (the
    /// segment was cleared under it).
    public func state(of order: QueuedOrder) -> QueuedState {
        // Acquiring: pairs with the leader's releasing mark, like every read of a state word here.
        let state = EntryState(raw: word(order.index, Field.state).load(ordering: .acquiring))
        guard state.pid == order.pid, state.tag == order.tag else { return .lost }
        switch state.code {
        case .waiting: return .waiting
        case .claimed, .marking, .abandoned: return .claimed
        case .done(let result): return .done(result)
        case .free, .filling: return .lost
        }
    }

    /// The id of the order the leader placed for `order`, once its state is `.done(.placed)`:
    /// read before the place is released.
    public func orderID(of order: QueuedOrder) -> Int64 {
        Int64(bitPattern: word(order.index, Field.orderID).load(ordering: .relaxed))
    }

    /// Frees the place of `order` once its owner has read the result.
    public func release(_ order: QueuedOrder) {
        let state = word(order.index, Field.state)
        let current = EntryState(raw: state.load(ordering: .relaxed))
        guard current.pid == order.pid, current.tag == order.tag else { return }
        _ = state.compareExchange(expected: current.raw, desired: 0, ordering: .releasing)
    }

    /// Gives up waiting for `order`: takes it out if no leader has claimed it (its unit was never
    /// committed), or leaves it to the leader that has, marked abandoned (it may be committed).
    /// An entry a leader is marking this instant is waited for (a few yields) and answered done,
    /// its order id read before its place is freed.
    public func withdraw(_ order: QueuedOrder) -> Withdrawal {
        let state = word(order.index, Field.state)
        let abandoned = EntryState(code: .abandoned, pid: order.pid, tag: order.tag).raw
        for _ in 0..<1_000 {
            let current = EntryState(raw: state.load(ordering: .acquiring))
            guard current.pid == order.pid, current.tag == order.tag else { return .lost }
            switch current.code {
            case .waiting:
                if state.compareExchange(expected: current.raw, desired: 0, ordering: .relaxed).exchanged {
                    return .withdrawn
                }
            case .claimed:
                if state.compareExchange(expected: current.raw, desired: abandoned, ordering: .relaxed).exchanged {
                    return .abandoned
                }
            case .marking:
                sched_yield()
            case .done(let result):
                let orderID = self.orderID(of: order)
                release(order)
                return .done(result, orderID: orderID)
            case .free, .filling, .abandoned:
                return .lost
            }
        }
        return .lost
    }

    // MARK: The leader's side

    /// Takes the commit lease for `leaseMs` (every process leads for the same time) unless a live
    /// leader holds it. A lease whose holder died (kill -9 at any instruction) or whose time ran
    /// out is taken over.
    public func lead(pid: Int32, nowMs: Int64, leaseMs: Int64) -> CommitLease? {
        // With endLead's fence: either this sees the lease given back, or the leader giving it
        // back sees this process's entry waiting and rings its bell; never neither.
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        let lease = headerWord(SegmentLayout.CommitQueueHeader.lease)
        let mine = CommitLease(pid: pid, deadlineMs: nowMs + leaseMs)
        var current = lease.load(ordering: .relaxed)
        while true {
            if current != 0 {
                let held = CommitLease(raw: current)
                guard
                    held.hasExpired(nowMs: nowMs)
                        || (held.isOld(nowMs: nowMs, leaseMs: leaseMs) && !Self.isAlive(held.pid))
                else {
                    return nil
                }
            }
            // Acquiring: what the last leader wrote to the entries is seen by the next.
            let (taken, actual) = lease.compareExchange(expected: current, desired: mine.raw, ordering: .acquiring)
            if taken { return mine }
            current = actual
        }
    }

    /// Claims every entry to commit, at most `max`: those waiting, and those claimed by a leader
    /// that lost its lease before marking them (it may have committed them; the ticket makes
    /// committing them again find the same order). A claim taken over is stamped anew (its
    /// epoch), so the lost leader, should it wake, can no longer mark it. Call it once per
    /// lease: it cannot tell its own claims from a lost leader's. An entry nobody waits for any
    /// more, its owner dead (its buyer heard a 5xx from the web server) or gone (abandoned: its
    /// buyer heard 503), is freed, not claimed: it is never committed after its buyer was
    /// answered (it stays committed if it was before), and its unit, if never committed, comes
    /// back with the sale's next reconciliation.
    public func claim(max: Int) -> [ClaimedOrder] {
        var claimed: [ClaimedOrder] = []
        var alive: [Int32: Bool] = [:]
        for index in 0..<limit where claimed.count < max {
            let state = word(index, Field.state)
            let current = EntryState(raw: state.load(ordering: .acquiring))
            switch current.code {
            case .waiting, .claimed, .marking, .abandoned:
                let owner = current.pid
                let ownerLives = alive[owner] ?? Self.isAlive(owner)
                alive[owner] = ownerLives
                guard current.code != .abandoned && ownerLives else {
                    _ = state.compareExchange(expected: current.raw, desired: 0, ordering: .relaxed)
                    continue
                }
                let epoch = current.code == .waiting ? 0 : (current.epoch &+ 1) % EntryState.epochs
                let mine = EntryState(code: .claimed, pid: current.pid, tag: current.tag, epoch: epoch)
                guard state.compareExchange(expected: current.raw, desired: mine.raw, ordering: .acquiring).exchanged
                else { continue }
                let order = read(index, state: mine, claimedBefore: current.code != .waiting)
                // Freed and filled again while it was read (its owner died, a sweep took it): not this entry.
                guard state.load(ordering: .acquiring) == mine.raw else { continue }
                claimed.append(order)
            default:
                continue
            }
        }
        return claimed
    }

    /// Marks a claimed entry with its result (and, placed, the order's id) and wakes its owner;
    /// an abandoned one, whose owner stopped waiting, is freed instead. The entry must still be
    /// this leader's claim: one taken over since (a new epoch), or freed, is left alone.
    public func complete(_ order: ClaimedOrder, with result: CommitResult, orderID: Int64 = 0) {
        let state = word(order.index, Field.state)
        let claimed = EntryState(code: .claimed, pid: order.pid, tag: order.tag, epoch: order.epoch).raw
        let marking = EntryState(code: .marking, pid: order.pid, tag: order.tag, epoch: order.epoch).raw
        let done = EntryState(code: .done(result), pid: order.pid, tag: order.tag).raw
        if state.compareExchange(expected: claimed, desired: marking, ordering: .relaxed).exchanged {
            // The place is this leader's while it is marking, unless a leader takes it over (a
            // new epoch) after this one was held for a whole lease right here, between two
            // instructions: then this store may land after the new leader's id.
            word(order.index, Field.orderID).store(UInt64(bitPattern: orderID), ordering: .relaxed)
            // Releasing: the commit and the id happen before the owner reads the result.
            if state.compareExchange(expected: marking, desired: done, ordering: .releasing).exchanged {
                ring(order.index)
            }
            return
        }
        let abandoned = EntryState(code: .abandoned, pid: order.pid, tag: order.tag).raw
        _ = state.compareExchange(expected: abandoned, desired: 0, ordering: .releasing)
    }

    /// Gives the lease back and wakes the owner of one entry still waiting, to lead next.
    public func endLead(_ lease: CommitLease) {
        // Releasing: the marks above are published with the lease.
        _ = headerWord(SegmentLayout.CommitQueueHeader.lease).compareExchange(
            expected: lease.raw, desired: 0, ordering: .releasing)
        // With lead's fence (see there).
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        let next = (0..<limit).first { index in
            EntryState(raw: word(index, Field.state).load(ordering: .relaxed)).code == .waiting
        }
        if let next { ring(next) }
    }

    /// The bell of `order`'s entry, to read before looking at its state and pass to `wait`: a
    /// ring between the two makes the wait return at once.
    public func bell(of order: QueuedOrder) -> UInt32 {
        bellWord(order.index).load(ordering: .acquiring)
    }

    /// Sleeps until `order`'s bell rings after `seen` (its entry is marked, or its owner is to
    /// lead), or `timeoutMs` passes.
    public func wait(for order: QueuedOrder, after seen: UInt32, timeoutMs: Int64) {
        guard timeoutMs > 0 else { return }
        _ = flashsale_futex_wait(bellAddress(order.index), seen, timeoutMs * 1_000_000)
    }

    private func ring(_ index: Int) {
        bellWord(index).wrappingIncrement(ordering: .releasing)
        _ = flashsale_futex_wake_all(bellAddress(index))
    }

    // MARK: Memory

    /// Empties the lease and every entry but its bell (the segment is being re-initialised under
    /// its flock): an owner still sleeping on a bell wakes by its timeout and finds its entry lost.
    func clear() {
        headerWord(SegmentLayout.CommitQueueHeader.lease).store(0, ordering: .relaxed)
        for index in 0..<limit {
            for offset in stride(from: 0, to: Field.size, by: 8) where offset != Field.bell {
                word(index, offset).store(0, ordering: .relaxed)
            }
        }
    }

    /// Frees the places of owners that died, whatever their state: nobody waits for them, and
    /// with every order process dead at once (a restart in a rush) no leader would come to
    /// free them. A leader still committing one finds it gone when it marks it, and leaves it.
    /// Answers how many.
    private func freeDeadOwners() -> Int {
        var freed = 0
        var alive: [Int32: Bool] = [:]
        for index in 0..<limit {
            let state = word(index, Field.state)
            let current = EntryState(raw: state.load(ordering: .acquiring))
            guard current.code != .free else { continue }
            let ownerLives = alive[current.pid] ?? Self.isAlive(current.pid)
            alive[current.pid] = ownerLives
            guard !ownerLives else { continue }
            if state.compareExchange(expected: current.raw, desired: 0, ordering: .relaxed).exchanged { freed += 1 }
        }
        return freed
    }

    private func read(_ index: Int, state: EntryState, claimedBefore: Bool) -> ClaimedOrder {
        let lengths = word(index, Field.lengths).load(ordering: .relaxed)
        let sale = loadBytes(index: index, at: Field.sale, count: min(Int(lengths >> 32), Field.saleCapacity))
        let user = loadBytes(index: index, at: Field.user, count: min(Int(lengths & 0xFFFF_FFFF), Field.userCapacity))
        let entry = OrderEntry(
            sale: String(decoding: sale, as: UTF8.self), user: String(decoding: user, as: UTF8.self),
            nowMs: Int64(bitPattern: word(index, Field.nowMs).load(ordering: .relaxed)),
            ticket: Int64(bitPattern: word(index, Field.ticket).load(ordering: .relaxed)))
        return ClaimedOrder(
            index: index, pid: state.pid, tag: state.tag, epoch: state.epoch, entry: entry, claimedBefore: claimedBefore
        )
    }

    /// Bytes go in as whole words (zero-padded), so that every access to the shared memory is atomic.
    private func storeBytes(_ bytes: [UInt8], index: Int, at offset: Int) {
        for start in stride(from: 0, to: bytes.count, by: 8) {
            var value: UInt64 = 0
            for (shift, byte) in bytes[start..<min(start + 8, bytes.count)].enumerated() {
                value |= UInt64(byte) << (8 * shift)
            }
            word(index, offset + start).store(value, ordering: .relaxed)
        }
    }

    private func loadBytes(index: Int, at offset: Int, count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        for start in stride(from: 0, to: count, by: 8) {
            let value = word(index, offset + start).load(ordering: .relaxed)
            for shift in 0..<min(8, count - start) { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * shift))) }
        }
        return bytes
    }

    private func word(_ index: Int, _ offset: Int) -> UnsafeAtomic<UInt64> {
        // Inside the mapping (index < limit ≤ capacity), 8-byte aligned, only ever accessed as a UInt64 atomic.
        UnsafeAtomic(
            at: (segment.base + SegmentLayout.queueEntriesOffset + index * Field.size + offset)
                .assumingMemoryBound(to: UInt64.AtomicRepresentation.self))
    }

    private func headerWord(_ offset: Int) -> UnsafeAtomic<UInt64> {
        // The queue header inside the mapping, 8-byte aligned, only ever accessed as a UInt64 atomic.
        UnsafeAtomic(
            at: (segment.base + SegmentLayout.queueOffset + offset).assumingMemoryBound(
                to: UInt64.AtomicRepresentation.self))
    }

    /// The low 32 bits of entry `index`'s bell word, a futex word.
    private func bellAddress(_ index: Int) -> UnsafeMutablePointer<UInt32> {
        // Inside the mapping (index < limit ≤ capacity), 8-byte aligned; only ever accessed as a UInt32 atomic and by futex(2).
        (segment.base + SegmentLayout.queueEntriesOffset + index * Field.size + Field.bell)
            .assumingMemoryBound(to: UInt32.self)
    }

    private func bellWord(_ index: Int) -> UnsafeAtomic<UInt32> {
        // The same word as `bellAddress`, as the atomic it is.
        UnsafeAtomic(
            at: UnsafeMutableRawPointer(bellAddress(index)).assumingMemoryBound(to: UInt32.AtomicRepresentation.self))
    }

    /// Whether process `pid` exists (in this pid namespace) and is not a zombie, which a
    /// killed process is until its parent reaps it. A pid reused by another process reads
    /// alive: then a lease waits for its time to run out.
    static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        guard kill(pid, 0) == 0 else { return errno != ESRCH }
        // /proc/PID/stat: "PID (name) S …"; the state follows the last ')'.
        let descriptor = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return true }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = Glibc.read(descriptor, &buffer, buffer.count)
        guard count > 0, let close = buffer[..<count].lastIndex(of: UInt8(ascii: ")")), close + 2 < count else {
            return true
        }
        return ![UInt8(ascii: "Z"), UInt8(ascii: "X")].contains(buffer[close + 2])
    }
}

/// An order put in the queue, as its owner knows it.
public struct QueuedOrder: Sendable, Equatable {
    let index: Int
    let pid: Int32
    let tag: UInt32
    /// What the order's row keeps, so a group committed again finds its own order.
    public let ticket: Int64
}

/// An order a leader claimed.
public struct ClaimedOrder: Sendable, Equatable {
    let index: Int
    let pid: Int32
    let tag: UInt32
    /// The stamp of this leader's claim: a leader taking the entry over stamps it anew.
    let epoch: UInt8
    public let entry: OrderEntry
    /// Claimed by a leader before this one, which may have committed it.
    public let claimedBefore: Bool
}

/// Where a queued order stands, as its owner sees it.
public enum QueuedState: Sendable, Equatable {
    case waiting
    /// A leader is committing it (or took over from one that died).
    case claimed
    case done(CommitResult)
    /// Its place was cleared (the segment rebuilt): nothing is known of it.
    case lost
}

/// What giving up on a queued order did.
public enum Withdrawal: Sendable, Equatable {
    /// Taken out before any leader claimed it: never committed.
    case withdrawn
    /// Left to the leader that claimed it: it may be committed.
    case abandoned
    /// It was done after all, with the placed order's id (0 unless placed).
    case done(CommitResult, orderID: Int64)
    case lost
}

/// What the leader decided for an entry.
public enum CommitResult: UInt8, Sendable, Equatable {
    case placed = 16
    case alreadyOrdered, soldOut, unknownSale
    /// The store failed for a reason of the moment and changed nothing.
    case failed
    /// The store's log failed to sync: orders are stopped, and this one withdrawn.
    case stopped
    /// The order may be committed and keeps its unit: a failed sync could not withdraw it, or
    /// the store's answer was lost with its connection.
    case stoppedKept
}

/// The commit lease: the leader's pid and when the lease runs out (the low 32 bits of the
/// time in milliseconds, compared with wrapping arithmetic), in one word.
public struct CommitLease: Sendable, Equatable {
    let raw: UInt64

    init(raw: UInt64) { self.raw = raw }

    init(pid: Int32, deadlineMs: Int64) {
        raw = UInt64(UInt32(bitPattern: pid)) << 32 | UInt64(UInt32(truncatingIfNeeded: deadlineMs))
    }

    var pid: Int32 { Int32(bitPattern: UInt32(truncatingIfNeeded: raw >> 32)) }

    func hasExpired(nowMs: Int64) -> Bool {
        msPastDeadline(nowMs) > 0
    }

    /// Held longer than any commit takes when all is well, so that its holder's liveness is
    /// worth a look: waiters do not read /proc while a live leader commits.
    func isOld(nowMs: Int64, leaseMs: Int64) -> Bool {
        msPastDeadline(nowMs) > Int32(clamping: Self.checkAfterMs - leaseMs)
    }

    /// How long a lease is held before waiters look whether its holder lives.
    static let checkAfterMs: Int64 = 20

    private func msPastDeadline(_ nowMs: Int64) -> Int32 {
        Int32(bitPattern: UInt32(truncatingIfNeeded: nowMs) &- UInt32(truncatingIfNeeded: raw))
    }
}

/// An entry's state word: its code in the low 8 bits, its owner's pid in the next 24 (Linux
/// pids stay below 2²²), its tag in the high 32. A claim's code, and a mark's, carries its epoch
/// (0 to 7): a leader taking an entry over from a lost one stamps it with the next, so that the
/// lost leader's marks, which expect its own epoch, fail.
struct EntryState: Equatable {
    enum Code: Equatable {
        case free, filling, waiting, abandoned
        /// A leader is committing it.
        case claimed
        /// The leader that claimed it is writing its result: the order id, then the mark.
        case marking
        case done(CommitResult)

        init(_ raw: UInt8) {
            switch raw {
            case 1: self = .filling
            case 2: self = .waiting
            case 3: self = .abandoned
            case Self.claimedBase..<(Self.claimedBase + EntryState.epochs): self = .claimed
            case Self.markingBase..<(Self.markingBase + EntryState.epochs): self = .marking
            default: self = CommitResult(rawValue: raw).map(Code.done) ?? .free
            }
        }

        /// The code byte; a claim's is `claimedBase` plus its epoch, a mark's `markingBase` plus it.
        func raw(epoch: UInt8) -> UInt8 {
            switch self {
            case .free: 0
            case .filling: 1
            case .waiting: 2
            case .abandoned: 3
            case .claimed: Self.claimedBase + epoch % EntryState.epochs
            case .marking: Self.markingBase + epoch % EntryState.epochs
            case .done(let result): result.rawValue
            }
        }

        static let claimedBase: UInt8 = 8
        /// Above the results' codes (16 to 22).
        static let markingBase: UInt8 = 32
    }

    /// How many epochs a claim cycles through.
    static let epochs: UInt8 = 8

    let raw: UInt64

    init(raw: UInt64) { self.raw = raw }

    init(code: Code, pid: Int32, tag: UInt32, epoch: UInt8 = 0) {
        raw =
            UInt64(tag) << 32 | UInt64(UInt32(bitPattern: pid) & 0xFF_FFFF) << 8 | UInt64(code.raw(epoch: epoch))
    }

    var code: Code { Code(UInt8(truncatingIfNeeded: raw)) }
    var pid: Int32 { Int32(bitPattern: UInt32(truncatingIfNeeded: raw >> 8) & 0xFF_FFFF) }
    var tag: UInt32 { UInt32(truncatingIfNeeded: raw >> 32) }
    /// A claim's or a mark's epoch (0 for any other code).
    var epoch: UInt8 {
        switch code {
        case .claimed: UInt8(truncatingIfNeeded: raw) - Code.claimedBase
        case .marking: UInt8(truncatingIfNeeded: raw) - Code.markingBase
        default: 0
        }
    }
}
