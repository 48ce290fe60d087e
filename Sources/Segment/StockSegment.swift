import Atomics
import Glibc
import POSIX

/// The stock segment: a memory-mapped file shared by every function process, holding each
/// sale's remaining stock, flags and counters in lock-free atomics. SQLite is the truth; the
/// segment is only a fast gate in front of it, re-initialised whenever it cannot be trusted.
// @unchecked Sendable: its properties never change after init; the mapped memory is only touched through atomics.
public final class StockSegment: @unchecked Sendable {
    public static let slotCount = SegmentLayout.slotCount

    /// True when this open created or re-initialised the file (callers then reconcile every sale).
    public let wasReinitialised: Bool

    /// The file this segment mapped, and the database it mirrors.
    let path: String
    let databaseID: UInt64

    /// The start of the MAP_SHARED mapping of `SegmentLayout.fileSize` bytes; valid until deinit unmaps it.
    let base: UnsafeMutableRawPointer
    private let descriptor: Int32

    /// Opens the segment file, creating it; re-initialises it (all slots unconfigured) when it is
    /// missing, too short, of another magic/layout/slot size/count, or made for another databaseID.
    public init(path: String, databaseID: UInt64) throws(SegmentError) {
        let descriptor = try systemCall("open", path) { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
        let mapped: (base: UnsafeMutableRawPointer, grown: Bool, wasEmpty: Bool)
        do throws(SegmentError) {
            mapped = try Self.lockAndMap(descriptor, path: path)
        } catch {
            close(descriptor)  // also drops the flock
            throw error
        }
        self.descriptor = descriptor
        self.path = path
        self.databaseID = databaseID
        base = mapped.base
        assert(SegmentLayout.Slot.counters + 8 * SlotCounter.allCases.count <= SegmentLayout.slotSize)
        wasReinitialised = mapped.grown || !Self.headerMatches(mapped.base, databaseID: databaseID)
        if wasReinitialised { reinitialise(databaseID: databaseID, isNew: mapped.wasEmpty) }
        flock(descriptor, LOCK_UN)
    }

    deinit {
        munmap(base, SegmentLayout.fileSize)
        close(descriptor)
    }

    /// One active request per account (views that keep this segment alive).
    public var accountLeases: AccountLeases {
        AccountLeases(
            table: SharedTable(segment: self, offset: SegmentLayout.leasesOffset, count: SegmentLayout.leaseCount))
    }

    /// The captcha challenges, passes and proof-of-work solutions used, each until it expires:
    /// leases that are never given back, in a table of their own, so that no flood of them
    /// can crowd out the accounts' leases.
    public var spentChallenges: AccountLeases {
        AccountLeases(
            table: SharedTable(segment: self, offset: SegmentLayout.spentOffset, count: SegmentLayout.spentCount))
    }

    /// The per-address rate limits.
    public var addressRates: AddressRates {
        AddressRates(
            table: SharedTable(segment: self, offset: SegmentLayout.ratesOffset, count: SegmentLayout.rateCount))
    }

    /// The slot at `index`, a view that keeps this segment (and so its mapping) alive.
    public func slot(at index: Int) -> SaleSlot {
        precondition(0 <= index && index < Self.slotCount, "slot index \(index) out of 0..<\(Self.slotCount)")
        return SaleSlot(segment: self, index: index)
    }

    /// Whether the file at `path` is still the one this segment maps, with a valid header. False
    /// when it was deleted or replaced (other processes then use another file) or its header was
    /// overwritten: the caller opens the segment again, which rebuilds what cannot be trusted.
    public func isCurrent() -> Bool {
        var onDisk = stat()
        var mapped = stat()
        guard stat(path, &onDisk) == 0, fstat(descriptor, &mapped) == 0 else { return false }
        // A file truncated in place would fault on the next read of the mapping: check its size first.
        return onDisk.st_dev == mapped.st_dev && onDisk.st_ino == mapped.st_ino
            && mapped.st_size >= SegmentLayout.fileSize && Self.headerMatches(base, databaseID: databaseID)
    }

    /// Takes an exclusive flock (the kernel drops it if this process dies, so no dead process can
    /// hold it) that serialises checking and re-initialising; grows a short file; maps it.
    private static func lockAndMap(
        _ descriptor: Int32, path: String
    ) throws(SegmentError) -> (base: UnsafeMutableRawPointer, grown: Bool, wasEmpty: Bool) {
        try systemCall("flock", path) { flock(descriptor, LOCK_EX) }
        var status = stat()
        try systemCall("fstat", path) { fstat(descriptor, &status) }
        let grown = status.st_size < SegmentLayout.fileSize
        if grown {
            try systemCall("ftruncate", path) { ftruncate(descriptor, off_t(SegmentLayout.fileSize)) }
        }
        let base = mmap(nil, SegmentLayout.fileSize, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0)
        guard let base, base != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw SegmentError(call: "mmap", subject: path, errno: errno)
        }
        return (base, grown, status.st_size == 0)
    }

    /// The magic as an atomic: it is written last by `reinitialise`, so it publishes the header.
    private static func magic(_ base: UnsafeMutableRawPointer) -> UnsafeAtomic<UInt64> {
        // Offset 0 of the page-aligned mapping, only ever accessed as a UInt64 atomic.
        UnsafeAtomic(at: base.assumingMemoryBound(to: UInt64.AtomicRepresentation.self))
    }

    private static func headerMatches(_ base: UnsafeMutableRawPointer, databaseID: UInt64) -> Bool {
        typealias Header = SegmentLayout.Header
        // Plain header loads from the live mapping: the header changes only under the flock, and a
        // torn read while another process re-initialises can only fail the comparison.
        // Acquiring: pairs with the releasing magic store, so the fields below are the ones it published.
        return magic(base).load(ordering: .acquiring) == SegmentLayout.magic
            && base.load(fromByteOffset: Header.version, as: UInt32.self) == SegmentLayout.version
            && base.load(fromByteOffset: Header.slotSize, as: UInt32.self) == UInt32(SegmentLayout.slotSize)
            && base.load(fromByteOffset: Header.slotCount, as: UInt32.self) == UInt32(SegmentLayout.slotCount)
            && base.load(fromByteOffset: Header.databaseID, as: UInt64.self) == databaseID
    }

    /// Empties every slot and writes a fresh header. The magic is cleared first and set last, so a
    /// process killed part-way leaves a segment that the next open re-initialises again.
    /// A new file is all zeros already: its tables (megabytes, mostly never touched) are left
    /// as the kernel gives them rather than written page by page.
    private func reinitialise(databaseID: UInt64, isNew: Bool) {
        typealias Header = SegmentLayout.Header
        let magic = Self.magic(base)
        magic.store(0, ordering: .relaxed)
        // Releasing fence: the cleared magic lands before any slot or header byte changes.
        atomicMemoryFence(ordering: .releasing)
        for index in 0..<Self.slotCount { slot(at: index).clear() }
        if !isNew {
            accountLeases.table.clear()
            addressRates.table.clear()
            spentChallenges.table.clear()
        }
        // Plain header writes inside the live mapping: every reader of the header holds the same flock.
        memset(base + 8, 0, SegmentLayout.slotsOffset - 8)
        base.storeBytes(of: SegmentLayout.version, toByteOffset: Header.version, as: UInt32.self)
        base.storeBytes(of: UInt32(SegmentLayout.slotSize), toByteOffset: Header.slotSize, as: UInt32.self)
        base.storeBytes(of: UInt32(SegmentLayout.slotCount), toByteOffset: Header.slotCount, as: UInt32.self)
        base.storeBytes(of: databaseID, toByteOffset: Header.databaseID, as: UInt64.self)
        // Releasing: the header and empty slots are in place before the magic says they are valid.
        magic.store(SegmentLayout.magic, ordering: .releasing)
    }
}
