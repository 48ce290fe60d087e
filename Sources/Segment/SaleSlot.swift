import Atomics
import Sales

private typealias Field = SegmentLayout.Slot

/// One sale's slot in the segment: remaining stock, the soldOut flag, the last reconciliation
/// time and counters, shared by every process that maps the file.
///
/// A view into the mapping that is safe to hold and share: it keeps its `StockSegment` (and so
/// the mapping) alive, and touches the memory only through atomics.
public struct SaleSlot: Sendable {
    let segment: StockSegment
    /// The slot's position in the segment, which the sale's row in SQLite also holds.
    public let index: Int

    private static let soldOutBit: Int64 = 1

    /// Sets remaining from SQLite (never below 0); sets or clears soldOut to match; records nowMs.
    public func reconcile(remaining: Int64, nowMs: Int64) {
        let stock = signed(Field.stock).load(ordering: .relaxed)
        // Sequentially consistent, as every write of remaining that can cross zero (see syncSoldOut).
        signed(Field.remaining).store(min(max(0, remaining), stock), ordering: .sequentiallyConsistent)
        syncSoldOut()
        // Releasing: whoever reads this time (acquiring) also sees the remaining stored before it.
        signed(Field.lastReconciledMs).store(nowMs, ordering: .releasing)
    }

    /// The units left; a snapshot (relaxed), since `takeOne` decides with its own compare-and-swap.
    public var remaining: Int64 { signed(Field.remaining).load(ordering: .relaxed) }

    /// Whether the sale is flagged sold out; a hint for answering early (relaxed), `takeOne` decides.
    public var isSoldOut: Bool {
        signed(Field.flags).load(ordering: .relaxed) & Self.soldOutBit != 0
    }

    /// When the slot was last reconciled from SQLite, in milliseconds since the epoch.
    public var lastReconciledMs: Int64 {
        // Acquiring: pairs with reconcile's releasing store.
        signed(Field.lastReconciledMs).load(ordering: .acquiring)
    }

    /// Takes one unit with a compare-and-swap, never going below zero. False (and soldOut set) when none is left.
    public func takeOne() -> Bool {
        let remaining = signed(Field.remaining)
        var current = remaining.load(ordering: .relaxed)  // a first guess; the compare-and-swap checks it
        while current > 0 {
            // Sequentially consistent: the take is ordered with every soldOut sync (see syncSoldOut).
            let (taken, actual) = remaining.weakCompareExchange(
                expected: current, desired: current - 1, ordering: .sequentiallyConsistent)
            if taken {
                if current == 1 { syncSoldOut() }
                return true
            }
            current = actual
        }
        syncSoldOut()
        return false
    }

    /// Returns a unit taken by takeOne after a failure later in the order path, never above the
    /// stock (a reconcile in between may already have counted it back). When the database
    /// answered sold out, reconcile to 0 instead: the unit is not there to give back.
    public func giveBack() {
        let remaining = signed(Field.remaining)
        let stock = signed(Field.stock).load(ordering: .relaxed)
        var current = remaining.load(ordering: .relaxed)  // a first guess; the compare-and-swap checks it
        while current < stock {
            // Sequentially consistent, as every write of remaining that can cross zero (see syncSoldOut).
            let (given, actual) = remaining.weakCompareExchange(
                expected: current, desired: current + 1, ordering: .sequentiallyConsistent)
            if given {
                if current == 0 { syncSoldOut() }
                return
            }
            current = actual
        }
    }

    /// Adds one to a counter.
    public func increment(_ counter: SaleCounter) {
        // Relaxed: a counter is a statistic that orders nothing else.
        signed(Self.offset(of: counter)).wrappingIncrement(ordering: .relaxed)
    }

    /// Adds `amount` to a counter, wrapping as `increment` does.
    public func add(_ counter: SaleCounter, _ amount: Int64) {
        // Relaxed: a counter is a statistic that orders nothing else.
        signed(Self.offset(of: counter)).wrappingIncrement(by: amount, ordering: .relaxed)
    }

    /// A counter's current value.
    public func count(_ counter: SaleCounter) -> Int64 {
        signed(Self.offset(of: counter)).load(ordering: .relaxed)
    }

    /// Makes soldOut match `remaining == 0`; runs after every write of remaining that crosses zero
    /// and after a failed take. It re-reads remaining after writing the flag and goes again if that
    /// crossed zero meanwhile; with every step sequentially consistent, the last sync to write the
    /// flag has seen the last crossing, so quiescent flags always match. A process killed here
    /// leaves the flag stale until the next sync or reconcile.
    private func syncSoldOut() {
        let remaining = signed(Field.remaining)
        let flags = signed(Field.flags)
        var soldOut = remaining.load(ordering: .sequentiallyConsistent) == 0
        while true {
            // Written only when it differs, so a sold-out crowd reads the shared line, not writes it.
            let flagged = flags.load(ordering: .sequentiallyConsistent) & Self.soldOutBit != 0
            if flagged != soldOut && soldOut {
                _ = flags.loadThenBitwiseOr(with: Self.soldOutBit, ordering: .sequentiallyConsistent)
            } else if flagged != soldOut {
                _ = flags.loadThenBitwiseAnd(with: ~Self.soldOutBit, ordering: .sequentiallyConsistent)
            }
            let now = remaining.load(ordering: .sequentiallyConsistent) == 0
            if now == soldOut { return }
            soldOut = now
        }
    }

    /// Zeroes every field (unconfigured, nothing left, no counts); used when the segment is re-initialised.
    func clear() {
        unsigned(Field.checksum).store(0, ordering: .relaxed)
        unsigned(Field.saleKey).store(0, ordering: .relaxed)
        for offset in [Field.stock, Field.startMs, Field.endMs, Field.remaining, Field.flags, Field.lastReconciledMs] {
            signed(offset).store(0, ordering: .relaxed)
        }
        clearCounters()
    }

    /// Zeroes the counters and the admission window: what belongs to one sale, not its configuration.
    func clearCounters() {
        signed(Field.admissionWindow).store(0, ordering: .relaxed)
        for counter in SaleCounter.allCases { signed(Self.offset(of: counter)).store(0, ordering: .relaxed) }
    }

    private static func offset(of counter: SaleCounter) -> Int {
        Field.counters + 8 * counter.rawValue
    }

    /// The slot's first byte: 64-byte aligned inside the mapping, which `segment` keeps alive.
    private var base: UnsafeMutableRawPointer {
        segment.base + SegmentLayout.slotsOffset + index * SegmentLayout.slotSize
    }

    func signed(_ offset: Int) -> UnsafeAtomic<Int64> {
        // 8-byte aligned in the live mapping; each signed field's offset is only ever accessed as Int64.
        UnsafeAtomic(at: (base + offset).assumingMemoryBound(to: Int64.AtomicRepresentation.self))
    }

    func unsigned(_ offset: Int) -> UnsafeAtomic<UInt64> {
        // 8-byte aligned in the live mapping; saleKey and checksum are only ever accessed as UInt64.
        UnsafeAtomic(at: (base + offset).assumingMemoryBound(to: UInt64.AtomicRepresentation.self))
    }
}
