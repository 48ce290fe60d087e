import Foundation
import Segment

/// Byte-level access to a segment file, for checking and corrupting it from outside the mapping.
enum SegmentFile {
    static let headerMagic = 0x464C_4153_4853_4547 as UInt64
    static let slotsOffset = 4096
    static let slotSize = 256
    static let size = slotsOffset + slotSize * StockSegment.slotCount

    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func load<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int, as: T.Type) -> T {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }

    /// Writes `bytes` at `offset` with pwrite; true when all were written.
    static func overwrite(_ path: String, at offset: Int, with bytes: [UInt8]) -> Bool {
        let descriptor = open(path, O_WRONLY)
        defer { close(descriptor) }
        return descriptor >= 0 && pwrite(descriptor, bytes, bytes.count, off_t(offset)) == bytes.count
    }

    /// The file offset of a field of slot `index` (the field's byte offset inside its slot).
    static func slotField(_ index: Int, _ field: Int) -> Int {
        slotsOffset + index * slotSize + field
    }
}
