import Sales

/// Byte offsets and sizes of the segment file, layout version 6. Header at 0 (64 bytes used,
/// the rest of the first page zero); `slotCount` slots of `slotSize` bytes from `slotsOffset`;
/// then the account leases, the address rates and the spent challenges, one 8-byte word an
/// entry; then the commit queue: its header and `queueCapacity` entries of won orders.
enum SegmentLayout {
    static let magic: UInt64 = 0x464C_4153_4853_4547  // "FLASHSEG"
    static let version: UInt32 = 6
    static let slotSize = 256
    static let slotCount = 1024
    static let slotsOffset = 4096
    static let leaseCount = 65_536
    static let leasesOffset = slotsOffset + slotSize * slotCount
    static let rateCount = 65_536
    static let ratesOffset = leasesOffset + 8 * leaseCount
    /// Spent challenges stay until they expire: at 10,000 tokens a second, each spending a pass
    /// and a proof of work for 30 s, some 600,000 at once, under a third of the table.
    static let spentCount = 1 << 21
    static let spentOffset = ratesOffset + 8 * rateCount
    static let queueOffset = spentOffset + 8 * spentCount
    /// The most entries the commit queue can hold; `FLASHSALE_COMMIT_QUEUE` uses a prefix.
    static let queueCapacity = GateLimits.largestCommitQueue
    static let queueEntriesOffset = queueOffset + 64
    static let fileSize = queueEntriesOffset + CommitQueueEntry.size * queueCapacity

    /// The commit queue's header: the commit lease.
    enum CommitQueueHeader {
        static let lease = 0
    }

    /// One entry of the commit queue, 8-byte words: the state word (what the entry is, its
    /// owner's pid and a tag), the ticket the order row keeps, the order's time, the lengths,
    /// the placed order's id (the leader's answer), the bell its owner sleeps on (a futex in the
    /// low 32 bits), then the sale id and the user id as bytes.
    enum CommitQueueEntry {
        static let state = 0
        static let ticket = 8
        static let nowMs = 16
        static let lengths = 24
        static let orderID = 32
        static let bell = 40
        static let sale = 48
        static let saleCapacity = 64
        static let user = sale + saleCapacity
        static let userCapacity = 512
        static let size = user + userCapacity
    }

    enum Header {
        static let magic = 0
        static let version = 8
        static let slotSize = 12
        static let slotCount = 16
        static let databaseID = 24
    }

    /// Every slot field is one 8-byte atomic; counters follow, one per `SaleCounter` case.
    enum Slot {
        static let saleKey = 0
        static let stock = 8
        static let startMs = 16
        static let endMs = 24
        static let checksum = 32
        static let remaining = 40
        static let flags = 48
        static let lastReconciledMs = 56
        static let admissionWindow = 64
        static let counters = 72
    }
}
