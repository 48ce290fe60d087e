import Atomics
import Basics
import CProcessShims
import Glibc
import Sales

/// The stock segment: a memory-mapped file shared by every function process, holding each
/// sale's remaining stock, flags and counters in lock-free atomics. SQLite is the truth; the
/// segment is only a fast gate in front of it, re-initialised whenever it cannot be trusted.
/// Every page of the file is allocated, so a full disk cannot fault a write; a fault all the
/// same (the file truncated under the process) is contained by the mapping guard, which
/// leaves zeros in place of the file and marks the segment faulted: its owner opens it again.
// @unchecked Sendable: its properties never change after init; the mapped memory is only touched through atomics.
public final class StockSegment: @unchecked Sendable {
    public static let slotCount = SegmentLayout.slotCount

    /// True when this open created or re-initialised the file (callers then reconcile every sale).
    public let wasReinitialised: Bool

    /// The file this segment mapped, and the database it mirrors.
    let path: String
    let databaseID: UInt64

    /// The start of the MAP_SHARED mapping of `SegmentLayout.fileSize` bytes; valid until deinit unmaps
    /// it (after a contained fault, anonymous zero pages at the same address: still valid, no longer shared).
    let base: UnsafeMutableRawPointer
    private let descriptor: Int32
    /// The mapping guard's slot for `base` (mapping_guard.h).
    private let guardSlot: Int32

    /// Opens the segment file, creating it; re-initialises it (all slots unconfigured) when it is
    /// missing, too short, of another magic/layout/slot size/count, or made for another databaseID.
    /// Allocates every page first: a full disk fails here (ENOSPC), never at a later write.
    public init(path: String, databaseID: UInt64) throws(SegmentError) {
        let descriptor = try systemCall("open", path) { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
        let mapped: (base: UnsafeMutableRawPointer, grown: Bool, wasEmpty: Bool)
        do throws(SegmentError) {
            mapped = try Self.lockAndMap(descriptor, path: path)
        } catch {
            close(descriptor)  // also drops the flock
            throw error
        }
        guardSlot = flashsale_mapping_guard_register(mapped.base, SegmentLayout.fileSize)
        guard guardSlot >= 0 else {
            let error = SegmentError(call: "flashsale_mapping_guard_register", subject: path, errno: errno)
            munmap(mapped.base, SegmentLayout.fileSize)
            close(descriptor)
            throw error
        }
        self.descriptor = descriptor
        self.path = path
        self.databaseID = databaseID
        base = mapped.base
        assert(SegmentLayout.Slot.counters + 8 * SaleCounter.allCases.count <= SegmentLayout.slotSize)
        wasReinitialised = mapped.grown || !Self.headerMatches(mapped.base, databaseID: databaseID)
        if wasReinitialised { reinitialise(databaseID: databaseID, isNew: mapped.wasEmpty) }
        flock(descriptor, LOCK_UN)
    }

    deinit {
        flashsale_mapping_guard_unregister(guardSlot)
        munmap(base, SegmentLayout.fileSize)
        close(descriptor)
    }

    /// The longest lease of an account's one active request: a lease never given back (its
    /// process killed) looks live again 74 hours on for at most this long.
    public static let longestAccountLeaseMs = GateLimits.longestAccountLeaseMs

    /// The longest lease of the spent-challenges table: longer than an account's admission and
    /// rest (two windows of at most an hour and a quarter each).
    public static let longestSpentLeaseMs: Int64 = 3 * 3_600_000

    /// One active request per account (views that keep this segment alive).
    public var accountLeases: AccountLeases {
        AccountLeases(
            table: SharedTable(segment: self, offset: SegmentLayout.leasesOffset, count: SegmentLayout.leaseCount),
            maxLeaseMs: Self.longestAccountLeaseMs)
    }

    /// The captcha challenges, passes and proof-of-work solutions used, each until it expires,
    /// and the accounts admitted to a window and resting through the next: leases in a table of
    /// their own, so that no flood of them can crowd out the accounts' leases.
    public var spentChallenges: AccountLeases {
        AccountLeases(
            table: SharedTable(segment: self, offset: SegmentLayout.spentOffset, count: SegmentLayout.spentCount),
            maxLeaseMs: Self.longestSpentLeaseMs)
    }

    /// The per-address rate limits.
    public var addressRates: AddressRates {
        AddressRates(
            table: SharedTable(segment: self, offset: SegmentLayout.ratesOffset, count: SegmentLayout.rateCount))
    }

    /// The commit queue of won orders, of which `limit` entries are used.
    public func commitQueue(limit: Int) -> CommitQueue {
        CommitQueue(segment: self, limit: limit)
    }

    /// The slot at `index`, a view that keeps this segment (and so its mapping) alive.
    public func slot(at index: Int) -> SaleSlot {
        precondition(0 <= index && index < Self.slotCount, "slot index \(index) out of 0..<\(Self.slotCount)")
        return SaleSlot(segment: self, index: index)
    }

    /// Whether an access faulted (the file was truncated under this process) and the mapping
    /// now holds zeros, not the file: nothing read or written since is shared or true, so the
    /// owner opens the segment again. One relaxed atomic load.
    public var hasFaulted: Bool { flashsale_mapping_guard_faulted(guardSlot) }

    /// Whether the file at `path` is still the one this segment maps, with a valid header. False
    /// when it was deleted or replaced (other processes then use another file), its header was
    /// overwritten or the mapping faulted: the caller opens the segment again, which rebuilds
    /// what cannot be trusted.
    public func isCurrent() -> Bool {
        guard !hasFaulted else { return false }
        var onDisk = stat()
        var mapped = stat()
        guard stat(path, &onDisk) == 0, fstat(descriptor, &mapped) == 0 else { return false }
        // A file truncated in place would fault on the next read of the mapping: check its size first.
        return onDisk.st_dev == mapped.st_dev && onDisk.st_ino == mapped.st_ino
            && mapped.st_size >= SegmentLayout.fileSize && Self.headerMatches(base, databaseID: databaseID)
    }

    /// Takes an exclusive flock (the kernel drops it if this process dies, so no dead process can
    /// hold it) that serialises checking and re-initialising; grows a short file and allocates
    /// every page of one that has holes (new, grown, or left sparse by an older version); maps it.
    private static func lockAndMap(
        _ descriptor: Int32, path: String
    ) throws(SegmentError) -> (base: UnsafeMutableRawPointer, grown: Bool, wasEmpty: Bool) {
        try systemCall("flock", path) { flock(descriptor, LOCK_EX) }
        var status = stat()
        try systemCall("fstat", path) { fstat(descriptor, &status) }
        let grown = status.st_size < SegmentLayout.fileSize
        if grown || Int(status.st_blocks) * 512 < SegmentLayout.fileSize {
            try allocate(descriptor, path: path, grown: grown)
        }
        let base = mmap(nil, SegmentLayout.fileSize, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0)
        guard let base, base != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw SegmentError(call: "mmap", subject: path, errno: errno)
        }
        return (base, grown, status.st_size == 0)
    }

    /// Allocates every block of the file (fallocate(2)), so that a full disk cannot fault a page
    /// of the mapping later: ENOSPC now is an error the caller answers. A file system that cannot
    /// allocate ahead (EOPNOTSUPP: NFSv3, some FUSE) gets a sparse file, grown with ftruncate,
    /// whose faults the mapping guard contains. On copy-on-write file systems (btrfs, ZFS) an
    /// allocated block can still need space when written; the guard covers that too.
    private static func allocate(_ descriptor: Int32, path: String, grown: Bool) throws(SegmentError) {
        if flashsale_allocate(descriptor, Int64(SegmentLayout.fileSize)) == 0 { return }
        guard errno == EOPNOTSUPP else { throw SegmentError(call: "fallocate", subject: path, errno: errno) }
        if grown { try systemCall("ftruncate", path) { ftruncate(descriptor, off_t(SegmentLayout.fileSize)) } }
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
            commitQueue(limit: CommitQueue.capacity).clear()
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
