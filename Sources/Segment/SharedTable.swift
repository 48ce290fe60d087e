import Atomics

/// A table of 64-bit atomic words in the segment, for the per-account and per-address tables:
/// a key's entry lives in one of `probeLength` words from the position its hash picks (linear
/// probing), so a lookup reads a few adjacent words and a full neighbourhood is a clear answer.
struct SharedTable: Sendable {
    let segment: StockSegment
    /// Byte offset of the first word in the mapping.
    let offset: Int
    /// How many words the table holds.
    let count: Int

    /// How many words a key may use, from its home position on: 16, two cache lines. With 8,
    /// the spent-challenge table (passes, solutions and now admissions) refused 5 verifies in
    /// 90,000 as full at about a fifth full (`checks.sh`); a neighbourhood of 16 all taken at
    /// that load is vanishingly rare.
    static let probeLength = 16

    /// The word at `index` (wrapped into the table).
    func word(_ index: Int) -> UnsafeAtomic<UInt64> {
        // Inside the mapping (offset and count come from SegmentLayout), 8-byte aligned, only ever
        // accessed as a UInt64 atomic.
        UnsafeAtomic(
            at: (segment.base + offset + 8 * (index % count)).assumingMemoryBound(to: UInt64.AtomicRepresentation.self))
    }

    /// `key` with its bits mixed (Fibonacci hashing), so that keys differing only in their low
    /// bits, which pick the position, still differ in the high bits that tell them apart.
    static func mixed(_ key: UInt64) -> UInt64 {
        key &* 0x9E37_79B9_7F4A_7C15
    }

    /// The first position a key with `hash` may use; it may use the `probeLength - 1` after it.
    func home(of hash: UInt64) -> Int {
        Int(hash % UInt64(count))
    }

    /// Empties every word (the segment is being re-initialised under its flock).
    func clear() {
        for index in 0..<count { word(index).store(0, ordering: .relaxed) }
    }
}
