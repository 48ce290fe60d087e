import Foundation
import Segment

/// Byte-level access to a segment file (layout version 6), for checking and corrupting it
/// from outside the mapping, as a damaged disk or a stray writer would.
public enum SegmentFile {
    public static let headerMagic = 0x464C_4153_4853_4547 as UInt64
    public static let slotsOffset = 4096
    public static let slotSize = 256
    /// The slots, then 65,536 words each of account leases and address rates, 2^21 words of
    /// spent challenges, and the commit queue: a 64-byte header and 1,024 entries of 624 bytes.
    public static let size =
        slotsOffset + slotSize * StockSegment.slotCount + 8 * (65_536 * 2 + (1 << 21)) + 64 + 624 * 1024
    /// The layout version in the header.
    public static let version: UInt32 = 6

    /// Byte offsets of a slot's fields inside the slot.
    public enum Field {
        public static let stock = 8
        public static let checksum = 32
        public static let remaining = 40
        public static let flags = 48
    }

    public static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    public static func load<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int, as: T.Type) -> T {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }

    /// Writes `bytes` at `offset` with pwrite; true when all were written.
    public static func overwrite(_ path: String, at offset: Int, with bytes: [UInt8]) -> Bool {
        let descriptor = open(path, O_WRONLY)
        defer { close(descriptor) }
        return descriptor >= 0 && pwrite(descriptor, bytes, bytes.count, off_t(offset)) == bytes.count
    }

    /// The file offset of a field of slot `index` (the field's byte offset inside its slot).
    public static func slotField(_ index: Int, _ field: Int) -> Int {
        slotsOffset + index * slotSize + field
    }
}

/// A fresh segment file of its own, mapped, for tests of the segment's tables.
public struct FreshSegment {
    public let dir: TemporaryDirectory
    public let segment: StockSegment

    public init() throws {
        dir = try TemporaryDirectory()
        segment = try StockSegment(path: dir.path + "/stock.segment", databaseID: 1)
    }
}
