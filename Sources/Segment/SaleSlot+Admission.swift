import Atomics

private typealias Field = SegmentLayout.Slot

extension SaleSlot {
    /// Admits one more buyer into the current admission window unless `limit` buyers already
    /// got in; a newer window (`window` ahead of the stored one) starts from zero, and an older
    /// one (a caller that read the clock just before the window turned) counts against the
    /// current one, so the window never moves back. The window and its count share one 64-bit
    /// atomic (window in the high 32 bits), so a process killed here leaves at most one
    /// admission counted and holds nothing.
    public func admit(window: UInt32, limit: Int64) -> Bool {
        let word = signed(Field.admissionWindow)
        var current = word.load(ordering: .relaxed)  // a first guess; the compare-and-swap checks it
        while true {
            let (stored, count) = Self.split(current)
            // A zero word is a slot never admitted to; a count that releases brought back to
            // zero still holds its window, so a caller of an older one cannot move it back.
            let isNewer = current == 0 || Int32(bitPattern: window &- stored) > 0
            let target = isNewer ? window : stored
            let admitted = isNewer ? 0 : count
            guard admitted < min(limit, Int64(UInt32.max)) else { return false }
            // Relaxed: the admission count orders nothing else; the compare-and-swap alone makes it exact.
            let (swapped, actual) = word.weakCompareExchange(
                expected: current, desired: Self.join(target, admitted + 1), ordering: .relaxed)
            if swapped { return true }
            current = actual
        }
    }

    /// Gives back one admission of `window` once its buyer has ordered, so that a window counts
    /// the buyers holding a token who have not bought yet: with the units they took gone, the
    /// limit (a multiple of the units left) still leaves room for the next buyers. Nothing
    /// happens once the window has moved on (its count starts from zero) or at zero.
    public func releaseAdmission(window: UInt32) {
        let word = signed(Field.admissionWindow)
        var current = word.load(ordering: .relaxed)  // a first guess; the compare-and-swap checks it
        while true {
            let (stored, count) = Self.split(current)
            guard stored == window, count > 0 else { return }
            // Relaxed, as in admit: the count orders nothing else.
            let (swapped, actual) = word.weakCompareExchange(
                expected: current, desired: Self.join(stored, count - 1), ordering: .relaxed)
            if swapped { return }
            current = actual
        }
    }

    /// How many buyers the window `window` has admitted and not yet seen order.
    public func admissions(inWindow window: UInt32) -> Int64 {
        let (currentWindow, count) = Self.split(signed(Field.admissionWindow).load(ordering: .relaxed))
        return currentWindow == window ? count : 0
    }

    /// True for one caller per `intervalMs`: the one that moves the last reconciliation
    /// time to `nowMs`; it then reads SQLite and calls `reconcile`. Nothing is held, so a caller
    /// that dies only delays the next reconciliation by one interval.
    public func claimReconciliation(nowMs: Int64, intervalMs: Int64) -> Bool {
        let last = signed(Field.lastReconciledMs)
        let seen = last.load(ordering: .relaxed)
        // Due when the last time is an interval old, or more than an interval in the future (a
        // clock step back, or a corrupted field); a caller whose clock reading is a little older
        // than the last claim is not. Compared without subtracting from `seen`, which may be any value.
        guard seen <= nowMs - intervalMs || seen > nowMs + intervalMs else { return false }
        // Relaxed: the claim orders nothing; reconcile publishes its result with its own store.
        return last.compareExchange(expected: seen, desired: nowMs, ordering: .relaxed).exchanged
    }

    private static func split(_ word: Int64) -> (window: UInt32, count: Int64) {
        let bits = UInt64(bitPattern: word)
        return (UInt32(truncatingIfNeeded: bits >> 32), Int64(bits & 0xFFFF_FFFF))
    }

    private static func join(_ window: UInt32, _ count: Int64) -> Int64 {
        Int64(bitPattern: UInt64(window) << 32 | UInt64(count))
    }
}
