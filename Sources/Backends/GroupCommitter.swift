import Glibc
import Sales
import Segment

/// Commits won orders in groups, leader and followers among the order processes: a buyer's
/// process puts its order in the segment's ``CommitQueue`` and waits; whichever waiting process
/// takes the commit lease commits every waiting entry, its own and the others', in one
/// transaction and one sync (``SaleStore/placeOrders(_:)``), marks each entry with its
/// result (a placed order's id with it, so that no buyer reads its order back) and wakes its
/// owner, then wakes one owner still waiting to lead the next group. No process is special, so
/// none needs supervising: a leader killed at any instruction leaves a lease that the next
/// waiter takes over once it has been held 20 ms (its pid gone) or when it runs out, and the
/// entries it claimed are committed again, finding by their tickets the orders already placed.
struct GroupCommitter {
    /// How many entries of the queue are used (`FLASHSALE_COMMIT_QUEUE`).
    var queueLimit: Int
    /// How long a buyer waits for its order to be durable before 503 `busy`.
    var waitMs: Int64
    /// Where a fault drill holds the leader (`FLASHSALE_PAUSE_AT`), if anywhere.
    var pauseAt: CommitPoint?

    /// The longest a leader may take before others take its lease over: above the store's busy
    /// timeout and a sync, so that only a leader stuck past any normal commit loses it.
    static let leaseMs: Int64 = 10_000
    /// How often a waiter looks whether the leader died, while no leader finishes.
    static let pollMs: Int64 = 10

    /// The order of `entry`, once it is durable: committed by this process or another in a
    /// group with whatever waited at the same time. `counted` is told each group this process
    /// commits, with the sales in it.
    func place(
        _ entry: OrderEntry, queue: CommitQueue, store: some GroupCommitStore, clock: () -> Int64,
        counted: (Set<String>) -> Void
    ) throws(StoreError) -> Order {
        // A process whose sync failed takes no more orders (``GroupCommitStore/ordersStoppedBy``),
        // and must not lead the others' groups into its failure.
        if let failure = store.ordersStoppedBy { throw .syncFailed(failure, orderKept: false) }
        let pid = getpid()
        guard let queued = queue.enqueue(entry, pid: pid) else { throw .database(CommitQueueFault.full) }
        let deadline = clock() + waitMs
        // What failed the last group this process led: its own order's answer says so.
        var failure: StoreError?
        while true {
            let seen = queue.bell(of: queued)
            switch queue.state(of: queued) {
            case .done(let result):
                let orderID = queue.orderID(of: queued)
                queue.release(queued)
                if let failure, result == .failed || result == .stopped || (result == .stoppedKept && failure.orderKept)
                {
                    throw failure
                }
                return try answer(result, orderID: orderID, for: entry)
            case .lost:
                throw .database(CommitQueueFault.lost)
            case .waiting, .claimed:
                break
            }
            let now = clock()
            // Not after a sync of this process failed (another thread's, since this one began).
            if store.ordersStoppedBy == nil, let lease = queue.lead(pid: pid, nowMs: now, leaseMs: Self.leaseMs) {
                failure = lead(queue: queue, lease: lease, store: store, counted: counted)
                continue
            }
            if now >= deadline {
                switch queue.withdraw(queued) {
                case .withdrawn: throw .database(CommitQueueFault.timedOut(mayHaveCommitted: false))
                case .abandoned, .lost: throw .database(CommitQueueFault.timedOut(mayHaveCommitted: true))
                case .done(let result, let orderID): return try answer(result, orderID: orderID, for: entry)
                }
            }
            queue.wait(for: queued, after: seen, timeoutMs: min(deadline - now, Self.pollMs))
        }
    }

    /// Commits every entry waiting (and any a dead leader left claimed) as one group, marks each
    /// with its result and gives the lease back, waking the waiters. Answers what failed the
    /// group, if anything: the leader's own order throws it, to be logged and answered as the
    /// store's failures are; the followers' orders answer `busy`.
    private func lead(
        queue: CommitQueue, lease: CommitLease, store: some GroupCommitStore, counted: (Set<String>) -> Void
    ) -> StoreError? {
        defer { queue.endLead(lease) }
        let group = queue.claim(max: queue.limit)
        guard !group.isEmpty else { return nil }
        pause(at: .beforeTransaction)
        let results: [CommitResult]
        var orderIDs: [Int64] = []
        var failure: StoreError?
        do {
            let outcomes = try store.placeOrders(group.map(\.entry))
            pause(at: .afterSync)
            results = outcomes.map(Self.result)
            orderIDs = outcomes.map { if case .placed(let order) = $0 { order.id } else { 0 } }
            counted(Set(zip(group, results).filter { $0.1 == .placed }.map(\.0.entry.sale)))
        } catch {
            failure = error
            let result: CommitResult =
                switch error {
                case .syncFailed(_, orderKept: true): .stoppedKept
                case .syncFailed: .stopped
                // A server's answer lost with the connection: the group may be committed.
                default: error.orderKept ? .stoppedKept : .failed
                }
            // An entry a lost leader claimed may be committed already: its buyer must not get its unit back.
            results = group.map { $0.claimedBefore && result != .stoppedKept ? .stoppedKept : result }
        }
        for (index, (order, result)) in zip(group, results).enumerated() {
            queue.complete(order, with: result, orderID: orderIDs.isEmpty ? 0 : orderIDs[index])
        }
        return failure
    }

    /// Holds this process (SIGSTOP) where the fault drill says, for a test to kill it there.
    func pause(at point: CommitPoint) {
        if point == pauseAt { raise(SIGSTOP) }
    }

    /// The buyer's answer to `entry`: a placed order is the row the leader inserted (or found by
    /// the entry's ticket), made from the entry, as inserted, and the id the leader handed back.
    private func answer(_ result: CommitResult, orderID: Int64, for entry: OrderEntry) throws(StoreError) -> Order {
        switch result {
        case .placed:
            return Order(
                id: orderID, sale: entry.sale, user: entry.user, createdAt: entry.nowMs, status: Order.newStatus)
        case .alreadyOrdered: throw .alreadyOrdered
        case .soldOut: throw .soldOut
        case .unknownSale: throw .unknownSale(entry.sale)
        case .failed, .stopped: throw .database(CommitQueueFault.groupFailed(orderKept: false))
        case .stoppedKept: throw .database(CommitQueueFault.groupFailed(orderKept: true))
        }
    }

    private static func result(_ outcome: OrderOutcome) -> CommitResult {
        switch outcome {
        case .placed: .placed
        case .alreadyOrdered: .alreadyOrdered
        case .soldOut: .soldOut
        case .unknownSale: .unknownSale
        }
    }
}

/// Why an order left the commit queue without a result of the store's: each is of the moment
/// (503 `busy`), and none is logged per order (the leader's own order carries the failure of
/// its group, logged as the store's failures are).
enum CommitQueueFault: StoreFault, Equatable {
    /// Every entry of the queue was taken.
    case full
    /// The group another process led failed (busy, a full disk, a failed sync): nothing of it
    /// was committed, unless a failed sync's withdrawal failed too (`orderKept`).
    case groupFailed(orderKept: Bool)
    /// The order was not durable within the wait; it may have been committed all the same.
    case timedOut(mayHaveCommitted: Bool)
    /// The segment was cleared under the queue (its file truncated or replaced).
    case lost

    var isBusy: Bool { true }
    var isTransient: Bool { true }

    var mayHaveCommitted: Bool {
        switch self {
        case .timedOut(let may): may
        case .groupFailed(let kept): kept
        case .lost: true
        case .full: false
        }
    }

    var description: String {
        switch self {
        case .full: "the commit queue is full"
        case .groupFailed: "the group this order was committed with failed"
        case .timedOut: "the order was not committed in time"
        case .lost: "the commit queue was cleared under the order"
        }
    }
}
