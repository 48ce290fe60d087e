import Foundation
import Hosting
import Sales
import Segment
import TestSupport
import Testing

/// The faults a mapped file can raise: a write into an unallocated page on a full disk, and
/// any access after the file was truncated under the mapping. Neither may kill the process;
/// a fault elsewhere still must.
@Suite struct SegmentFaultTests {
    let sale = StockTerms(saleKey: StockSegment.saleKey("s1"), stock: 10, startMs: 1_000, endMs: 2_000)

    @Test func everyPageIsAllocatedWhenTheFileIsCreated() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/stock.segment"
        _ = try StockSegment(path: path, databaseID: 7)
        let (size, allocated) = try Self.sizes(path)
        #expect(size == SegmentFile.size && allocated >= size, "\(allocated) of \(size) bytes allocated")
    }

    /// Versions before allocation grew the file with ftruncate and wrote only what they used.
    @Test func aSparseFileFromAnOlderVersionIsAllocatedAndKept() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/stock.segment"
        try StockSegment(path: path, databaseID: 7).slot(at: 3).configure(sale, remaining: 4, nowMs: 1)
        let used = Array(try SegmentFile.bytes(path)[..<(SegmentFile.slotsOffset + 4 * SegmentFile.slotSize)])
        #expect(unlink(path) == 0)
        let descriptor = open(path, O_RDWR | O_CREAT, 0o600)
        #expect(ftruncate(descriptor, off_t(SegmentFile.size)) == 0)
        #expect(pwrite(descriptor, used, used.count, 0) == used.count)
        close(descriptor)
        #expect(try Self.sizes(path).allocated < SegmentFile.size / 2)

        let segment = try StockSegment(path: path, databaseID: 7)
        #expect(!segment.wasReinitialised)
        #expect(segment.slot(at: 3).terms() == sale && segment.slot(at: 3).remaining == 4)
        let (size, allocated) = try Self.sizes(path)
        #expect(size == SegmentFile.size && allocated >= size, "\(allocated) of \(size) bytes allocated")
    }

    /// A filesystem too small for the segment (a full disk) fails the open with the call and
    /// errno, before anything is mapped.
    @Test func aFullDiskFailsTheOpenWithENOSPC() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try #require(
            mount("tmpfs", dir.path, "tmpfs", 0, "size=4m") == 0, "mount failed, errno \(errno): the test needs root")
        // Lazily detached when busy, so a failing test never leaves the tmpfs mounted.
        defer { if umount2(dir.path, 0) != 0 { umount2(dir.path, Int32(MNT_DETACH)) } }
        let path = dir.path + "/stock.segment"
        let error = #expect(throws: SegmentError.self) { try StockSegment(path: path, databaseID: 7) }
        #expect(error?.call == "fallocate" && error?.subject == path && error?.errno == ENOSPC)
    }

    @Test func aFileTruncatedUnderTheMappingFaultsIntoZerosAndOpensAgain() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/stock.segment"
        let segment = try StockSegment(path: path, databaseID: 7)
        let elsewhere = try StockSegment(path: dir.path + "/other.segment", databaseID: 7)
        segment.slot(at: 3).configure(sale, remaining: 4, nowMs: 1)
        #expect(!segment.hasFaulted && segment.isCurrent())

        #expect(truncate(path, 0) == 0)
        // Reads and writes that would raise SIGBUS: they see zeros, and change nothing shared.
        let slot = segment.slot(at: 3)
        #expect(slot.terms() == nil && slot.remaining == 0)
        slot.configure(sale, remaining: 9, nowMs: 2)
        #expect(slot.takeOne())
        #expect(segment.hasFaulted && !segment.isCurrent())
        #expect(!elsewhere.hasFaulted && elsewhere.isCurrent())
        #expect(try Self.sizes(path).size == 0)

        let reopened = try StockSegment(path: path, databaseID: 7)
        #expect(reopened.wasReinitialised && !reopened.hasFaulted && reopened.isCurrent())
        #expect(reopened.slot(at: 3).terms() == nil)
        let (size, allocated) = try Self.sizes(path)
        #expect(size == SegmentFile.size && allocated >= size)
        #expect(SegmentFile.load(try SegmentFile.bytes(path), at: 0, as: UInt64.self) == SegmentFile.headerMagic)
    }

    /// A SIGBUS that is no contained fault still ends the process: a fault in an unguarded
    /// mapping, or a signal sent, in a small C program built here with the guard's source, which
    /// first faults and survives in its guarded mapping (no Swift runtime: the default action).
    @Test(arguments: ["fault", "signal"])
    func aSigbusOutsideTheGuardedRangeStillKills(_ kind: String) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let program = try GuardProgram(in: dir)
        let run = try ChildProcess(executable: program.path, arguments: [dir.path, kind])
        #expect(run.waitForExit(within: 30) == 128 + SIGBUS)
        #expect(access(dir.path + "/contained", F_OK) == 0, "the fault in the guarded mapping was not contained")
        run.signal(SIGKILL)
        run.reap()
    }

    /// In a function process, whose segment is guarded, a SIGBUS sent goes on to the handler
    /// installed before the guard, the Swift runtime's crash reporter, and the process dies of it.
    @Test func aSigbusSentToAFunctionProcessReachesTheCrashReporterAndKills() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let data = dir.path + "/var"
        let initialise = try ChildProcess(
            executable: Paths.executable("flashsale"), arguments: ["init", "--data", data])
        initialise.reap()
        #expect(initialise.status == 0)
        let report = dir.path + "/crash.txt"
        let function = try FunctionProcess(
            "precheck", data: data,
            environment: ["SWIFT_BACKTRACE": Deployment.crashReport + ",output-to=\(report)"])
        #expect(kill(function.process.pid, SIGBUS) == 0)
        #expect(function.waitForExit(within: 30) == 128 + SIGBUS)
        let crash = (try? String(contentsOfFile: report, encoding: .utf8)) ?? ""
        #expect(crash.contains("Bus error"), "\(crash)")
    }

    /// The file's size and the bytes allocated to it.
    static func sizes(_ path: String) throws -> (size: Int, allocated: Int) {
        var status = stat()
        try #require(stat(path, &status) == 0)
        return (Int(status.st_size), Int(status.st_blocks) * 512)
    }
}

/// A C program that maps two truncated files, guards the first, faults in it (which must be
/// contained: it then creates `contained`), then raises SIGBUS outside the guard: by a fault in
/// the second, or by `raise`. Exit 0 means it survived; 3 to 5, that the guard failed.
struct GuardProgram {
    static let source = """
        #include "mapping_guard.h"
        #include <fcntl.h>
        #include <signal.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <sys/mman.h>
        #include <unistd.h>

        static volatile char *truncated_page(const char *dir, const char *name) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, name);
            int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
            if (fd < 0 || ftruncate(fd, 4096) != 0) exit(3);
            char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            if (page == MAP_FAILED || ftruncate(fd, 0) != 0) exit(3);
            return page;
        }

        int main(int argc, char **argv) {
            volatile char *guarded = truncated_page(argv[1], "guarded");
            int slot = flashsale_mapping_guard_register((void *)guarded, 4096);
            if (slot < 0) return 4;
            guarded[100] = 7;
            if (!flashsale_mapping_guard_faulted(slot) || guarded[100] != 7) return 5;
            char survived[4096];
            snprintf(survived, sizeof survived, "%s/contained", argv[1]);
            close(open(survived, O_CREAT | O_WRONLY, 0600));
            if (strcmp(argv[2], "signal") == 0) {
                raise(SIGBUS);
            } else {
                truncated_page(argv[1], "unguarded")[0] = 1;
            }
            return 0;
        }
        """

    let path: String

    /// Builds the program in `dir` with the C compiler on the PATH.
    init(in dir: TemporaryDirectory) throws {
        let shims = Paths.packageRoot + "/Sources/CProcessShims"
        let main = dir.path + "/main.c"
        path = dir.path + "/guard-program"
        try Self.source.write(toFile: main, atomically: true, encoding: .utf8)
        let compiler = try #require(
            (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/cc" }
                .first { (candidate: String) in access(candidate, X_OK) == 0 }, "no cc on the PATH")
        let build = try ChildProcess(
            executable: compiler,
            arguments: [
                "-std=gnu11", "-I", shims + "/include", "-o", path, main, shims + "/mapping_guard.c", "-lpthread",
            ])
        build.reap()
        try #require(build.status == 0, "cc failed")
    }
}
