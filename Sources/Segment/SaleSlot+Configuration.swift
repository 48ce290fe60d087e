import Atomics
import Sales

private typealias Field = SegmentLayout.Slot

extension SaleSlot {
    /// The slot's configuration, or nil when unconfigured, when its checksum does not match (torn
    /// or corrupt), or while another process is rewriting it.
    public func terms() -> StockTerms? {
        // Acquiring: pairs with configure's releasing store; fields newer still fail the checksum.
        let checksum = unsigned(Field.checksum).load(ordering: .acquiring)
        let configuration = StockTerms(
            saleKey: unsigned(Field.saleKey).load(ordering: .relaxed),
            stock: signed(Field.stock).load(ordering: .relaxed),
            startMs: signed(Field.startMs).load(ordering: .relaxed),
            endMs: signed(Field.endMs).load(ordering: .relaxed))
        guard checksum != 0, checksum == Self.checksum(configuration) else { return nil }
        return configuration
    }

    /// Writes the configuration and the remaining stock (reconciliation does this from SQLite).
    /// Counters restart from zero when the slot changes to another sale.
    public func configure(_ configuration: StockTerms, remaining: Int64, nowMs: Int64) {
        let checksum = unsigned(Field.checksum)
        checksum.store(0, ordering: .relaxed)
        // Releasing fence: the zero lands before any field changes, so a writer killed part-way
        // leaves the slot unconfigured rather than torn.
        atomicMemoryFence(ordering: .releasing)
        let saleKey = unsigned(Field.saleKey)
        if saleKey.load(ordering: .relaxed) != configuration.saleKey { clearCounters() }
        saleKey.store(configuration.saleKey, ordering: .relaxed)
        signed(Field.stock).store(configuration.stock, ordering: .relaxed)
        signed(Field.startMs).store(configuration.startMs, ordering: .relaxed)
        signed(Field.endMs).store(configuration.endMs, ordering: .relaxed)
        reconcile(remaining: remaining, nowMs: nowMs)
        // Releasing: a reader that sees this checksum also sees every field written above.
        checksum.store(Self.checksum(configuration), ordering: .releasing)
    }

    /// A splitmix64 chain over the four fields; never 0, which marks an unconfigured slot.
    static func checksum(_ configuration: StockTerms) -> UInt64 {
        var hash = mix(configuration.saleKey)
        hash = mix(hash ^ UInt64(bitPattern: configuration.stock))
        hash = mix(hash ^ UInt64(bitPattern: configuration.startMs))
        hash = mix(hash ^ UInt64(bitPattern: configuration.endMs))
        return hash == 0 ? 1 : hash
    }

    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
