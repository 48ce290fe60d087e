import Foundation
import Sales
import Segment
import TestSupport
import Testing

@Suite struct StockSegmentTests {
    let sale = StockTerms(saleKey: StockSegment.saleKey("s1"), stock: 10, startMs: 1_000, endMs: 2_000)

    @Test func createWritesAValidHeaderAndAnOwnerOnlyFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/stock.segment"
        let segment = try StockSegment(path: path, databaseID: 0xABCD)
        #expect(segment.wasReinitialised)

        let bytes = try SegmentFile.bytes(path)
        #expect(bytes.count == SegmentFile.size)
        #expect(SegmentFile.load(bytes, at: 0, as: UInt64.self) == SegmentFile.headerMagic)
        #expect(SegmentFile.load(bytes, at: 8, as: UInt32.self) == SegmentFile.version)
        #expect(SegmentFile.load(bytes, at: 12, as: UInt32.self) == 256)
        #expect(SegmentFile.load(bytes, at: 16, as: UInt32.self) == 1024)
        #expect(SegmentFile.load(bytes, at: 24, as: UInt64.self) == 0xABCD)
        #expect(bytes[20..<24].allSatisfy { $0 == 0 } && bytes[32..<4096].allSatisfy { $0 == 0 })
        #expect(bytes[4096...].allSatisfy { $0 == 0 })
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(StockSegment.slotCount == 1024)
    }

    @Test func reopeningWithTheSameDatabaseKeepsTheSlots() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/stock.segment"
        do {
            let slot = try StockSegment(path: path, databaseID: 7).slot(at: 3)
            slot.configure(sale, remaining: 4, nowMs: 1_500)
            slot.increment(.attempts)
        }
        let reopened = try StockSegment(path: path, databaseID: 7)
        #expect(!reopened.wasReinitialised)
        let slot = reopened.slot(at: 3)
        #expect(slot.terms() == sale)
        #expect(slot.remaining == 4 && !slot.isSoldOut && slot.lastReconciledMs == 1_500)
        #expect(slot.count(.attempts) == 1)
    }

    @Test func reopeningForAnotherDatabaseReinitialises() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/stock.segment"
        try StockSegment(path: path, databaseID: 7).slot(at: 3).configure(sale, remaining: 4, nowMs: 1_500)

        let other = try StockSegment(path: path, databaseID: 8)
        #expect(other.wasReinitialised)
        #expect(other.slot(at: 3).terms() == nil)
        #expect(other.slot(at: 3).remaining == 0 && other.slot(at: 3).lastReconciledMs == 0)
        #expect(SegmentFile.load(try SegmentFile.bytes(path), at: 24, as: UInt64.self) == 8)
    }

    @Test(arguments: [0, 1, 100, 4096, SegmentFile.size - 8])
    func aTruncatedFileIsReinitialisedAndGrown(length: Int) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/stock.segment"
        try StockSegment(path: path, databaseID: 7).slot(at: 0).configure(sale, remaining: 4, nowMs: 1)
        #expect(truncate(path, off_t(length)) == 0)

        let segment = try StockSegment(path: path, databaseID: 7)
        #expect(segment.wasReinitialised)
        #expect(segment.slot(at: 0).terms() == nil)
        #expect(try SegmentFile.bytes(path).count == SegmentFile.size)
    }

    @Test(
        arguments: [
            (0, Array("FLASHSEG".utf8)),  // the magic byte-swapped
            (8, [1, 0, 0, 0]),  // layout version
            (12, [128, 0, 0, 0]),  // slot size
            (16, [0, 8, 0, 0]),  // slot count 2048
            (24, [0xFF]),  // databaseID
            (0, [UInt8](repeating: 0xA5, count: 64)),  // garbage over the whole header
        ] as [(Int, [UInt8])])
    func aDamagedHeaderIsReinitialised(offset: Int, bytes: [UInt8]) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/stock.segment"
        try StockSegment(path: path, databaseID: 7).slot(at: 0).configure(sale, remaining: 4, nowMs: 1)
        #expect(SegmentFile.overwrite(path, at: offset, with: bytes))

        let segment = try StockSegment(path: path, databaseID: 7)
        #expect(segment.wasReinitialised)
        #expect(segment.slot(at: 0).terms() == nil)
        let header = try SegmentFile.bytes(path)
        #expect(SegmentFile.load(header, at: 0, as: UInt64.self) == SegmentFile.headerMagic)
        #expect(SegmentFile.load(header, at: 8, as: UInt32.self) == SegmentFile.version)
        #expect(header[32..<64].allSatisfy { $0 == 0 })
        #expect(try !StockSegment(path: path, databaseID: 7).wasReinitialised)
    }

    @Test(arguments: [0, 8, 16, 24, 32])  // saleKey, stock, startMs, endMs, checksum
    func garbageInASlotsConfigurationMakesItUnconfigured(field: Int) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/stock.segment"
        do {
            let segment = try StockSegment(path: path, databaseID: 7)
            segment.slot(at: 5).configure(sale, remaining: 4, nowMs: 1)
            segment.slot(at: 6).configure(sale, remaining: 4, nowMs: 1)
        }
        #expect(SegmentFile.overwrite(path, at: SegmentFile.slotField(5, field), with: [0x5A, 0x5A]))

        let segment = try StockSegment(path: path, databaseID: 7)
        #expect(!segment.wasReinitialised)
        #expect(segment.slot(at: 5).terms() == nil)
        #expect(segment.slot(at: 6).terms() == sale)
    }

    @Test func aPathInAMissingDirectoryThrowsWithTheCallPathAndErrno() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/missing/stock.segment"
        let error = #expect(throws: SegmentError.self) { try StockSegment(path: path, databaseID: 7) }
        #expect(error?.call == "open" && error?.subject == path && error?.errno == ENOENT)
        #expect(error?.description == "open(\(path)) failed: No such file or directory (errno 2)")
    }

    @Test func saleKeyIsFNV1a64() {
        #expect(StockSegment.saleKey("") == 0xcbf2_9ce4_8422_2325)
        #expect(StockSegment.saleKey("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(StockSegment.saleKey("foobar") == 0x8594_4171_f739_67e8)
        #expect(StockSegment.saleKey("s1") != StockSegment.saleKey("s2"))
    }
}
