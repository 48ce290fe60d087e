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

/// Runs `body(i)` for i in 0..<count on that many threads, released together once all have
/// started; true when all finished in time.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) -> Bool {
    let started = DispatchGroup()
    let gate = DispatchSemaphore(value: 0)
    let finished = DispatchGroup()
    for index in 0..<count {
        started.enter()
        finished.enter()
        Thread {
            started.leave()
            gate.wait()
            body(index)
            finished.leave()
        }.start()
    }
    _ = started.wait(timeout: .now() + 10)
    for _ in 0..<count { gate.signal() }
    return finished.wait(timeout: .now() + 60) == .success
}

/// A thread-safe total for tests that count across threads.
final class Tally: Sendable {
    private let lock = NSLock()
    // nonisolated(unsafe): only touched while `lock` is held.
    private nonisolated(unsafe) var total = 0

    func add(_ amount: Int) {
        lock.withLock { total += amount }
    }

    var value: Int { lock.withLock { total } }
}
