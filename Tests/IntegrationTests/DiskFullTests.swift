import Backends
import Basics
import Challenges
import Foundation
import Hosting
import Identity
import Sales
import Segment
import Store
import TestSupport
import Testing

/// A full disk under a running sale, on a small tmpfs the test mounts for the data directory:
/// real lighttpd and function processes answer it as a fault (503 `busy`, nothing changed,
/// nothing crashed), and heal by themselves once space returns.
@Suite(.serialized) struct DiskFullTests {
    @Test func aFullDiskIsAnsweredBusyChangesNothingAndHealsByItself() throws {
        try #require(
            geteuid() == 0,
            "DiskFullTests mounts a 64 MB tmpfs for the data directory and needs root (CI runs the tests as root)")
        let disk = try SmallFilesystem(megabytes: 64)
        defer { disk.unmount() }
        let project = try ProjectCopy(environment: LiveShop.environment)
        defer { project.remove() }
        // Everything that holds a file on the mount is gone when this returns, before the unmount.
        try sell(on: disk, project: project)
    }

    /// A process that opens the database on a full disk (a function respawned, an operator's
    /// command) reads it: the log's index persists from the last close, where creating it would
    /// fail. Its orders fail transiently and change nothing until space returns.
    @Test func aDatabaseOpenedOnAFullDiskReadsAndWritesOnceSpaceReturns() throws {
        try #require(geteuid() == 0, "DiskFullTests mounts a small tmpfs and needs root (CI runs the tests as root)")
        let disk = try SmallFilesystem(megabytes: 4)
        defer { disk.unmount() }
        let path = disk.path + "/flashsale.db"
        let created = try SQLiteSaleStore(path: path).create(
            NewSale(id: "late", title: "Late", price: 1, stock: 3, startsAt: 0, endsAt: nil), nowMs: 0)
        #expect(FileManager.default.fileExists(atPath: path + "-shm"))
        _ = try disk.fill()

        let store = try SQLiteSaleStore(path: path)
        #expect(try store.sale("late") == created)
        #expect {
            _ = try store.placeOrder(sale: "late", user: "ann", nowMs: 1)
        } throws: { ($0 as? StoreError)?.isTransient == true }
        #expect(try store.sale("late") == created && store.orders(ofSale: "late").isEmpty)

        disk.free()
        let order = try store.placeOrder(sale: "late", user: "ann", nowMs: 2)
        #expect(try store.orders(ofSale: "late") == [order] && store.sale("late")?.remaining == 2)
    }

    /// `flashsale init` allocates the segment's every page: a disk without room for it fails
    /// init with the reason, rather than a function later with SIGBUS.
    @Test func initOnADiskWithoutRoomForTheSegmentFailsWithTheReason() throws {
        try #require(geteuid() == 0, "DiskFullTests mounts a small tmpfs and needs root (CI runs the tests as root)")
        let disk = try SmallFilesystem(megabytes: 4)
        defer { disk.unmount() }
        let result = try FlashsaleCommand.run("init --data \(disk.path)/var")
        #expect(result.status == 1)
        #expect(
            result.stderr.contains("fallocate(\(disk.path)/var/stock.segment) failed: No space left on device"),
            "\(result.stderr)")
    }

    private func sell(on disk: SmallFilesystem, project: ProjectCopy) throws {
        let serve = try ServeProcess(root: project.root, data: DataDirectory(path: disk.path + "/var"))
        let shop = try DiskShop(serve)
        let sale = try shop.desk.create(
            NewSale(id: "full", title: "Full", price: 100, stock: 20, startsAt: DiskShop.now(), endsAt: nil),
            nowMs: DiskShop.now())
        let work = try shop.desk.create(
            NewSale(id: "work", title: "Work", price: 100, stock: 5, startsAt: DiskShop.now(), endsAt: nil, powBits: 4),
            nowMs: DiskShop.now())
        for index in 0..<3 {
            #expect(try shop.buy("early\(index)", sale: sale.id).status == 201, "\(shop.logTail)")
        }
        #expect(try shop.askToken("early", sale: work.id, withWork: true).status == 200)
        let pids = shop.functionPIDs()
        #expect(!pids.isEmpty)

        let filled = try disk.fill()
        let before = try shop.truth(sale.id)
        #expect(before.orders.count == 3 && before.sale.remaining == 17)
        let slotBefore = try shop.slot(sale)
        let (reconciledBefore, remainingBefore) = (slotBefore.lastReconciledMs, slotBefore.remaining)
        let countsBefore = SaleCounter.allCases.map { slotBefore.count($0) }
        let functionLogSize = disk.size(of: serve.data.functionLog)

        // The page's requests are answered; orders are refused as a fault and change nothing.
        #expect(try shop.request("GET", "/api/time").status == 200)
        let precheck = try shop.request("GET", "/api/precheck?sale=\(sale.id)")
        #expect(precheck.status == 200 && precheck.text == #"{"ok":true}"#, "\(precheck.text)")
        for index in 0..<5 {
            let user = "late\(index)"
            let token = try shop.askToken(user, sale: sale.id)
            #expect(token.status == 200, "\(token.status) \(token.text)\n\(shop.logTail)")
            guard let issued = try? token.json(), let url = issued["orderUrl"] as? String,
                let value = issued["token"] as? String
            else { continue }
            let order = try shop.order(user, path: url, sale: sale.id, token: value)
            #expect(order.status == 503 && order.errorCode == "busy", "\(order.status) \(order.text)\n\(shop.logTail)")
            #expect(order.headers["retry-after"] == "1")
        }
        // Each fresh proof of work is written to the segment's table of spent ones.
        for index in 0..<5 {
            let token = try shop.askToken("worker\(index)", sale: work.id, withWork: true)
            #expect(token.status == 200, "\(token.status) \(token.text)\n\(shop.logTail)")
        }
        let during = try shop.truth(sale.id)
        #expect(during.sale == before.sale, "remaining and version changed while the disk was full")
        #expect(during.orders == before.orders)
        // Each refused order gave its unit back: with no reconcile in between, the slot holds
        // what it held before them. The gate may hold more than the store, never less: a
        // reconcile that read the store while an order was in flight (here or while the early
        // buyers bought, a function process starting under a loaded machine) counts that unit
        // back before the order commits it. The next reconcile brings it to the store's figure.
        let slot = try shop.slot(sale)
        let slotLeft = slot.remaining
        // What the sale's counters did meanwhile, for a failure to tell who moved the slot.
        let counted = zip(SaleCounter.allCases, countsBefore).compactMap { counter, before in
            slot.count(counter) == before ? nil : "\(counter) +\(slot.count(counter) - before)"
        }
        let moves = "slot \(remainingBefore) before the refused orders, \(slotLeft) after; \(counted)"
        if slot.lastReconciledMs == reconciledBefore {
            #expect(slotLeft == remainingBefore, "\(moves)\n\(shop.logTail)\n\(serve.log.suffix(4000))")
        }
        #expect(slotLeft >= before.sale.remaining, "\(moves)\n\(shop.logTail)\n\(serve.log.suffix(4000))")
        #expect(
            eventually {
                _ = try? shop.request("GET", "/api/precheck?sale=\(sale.id)")
                return (try? shop.slot(sale).remaining) == before.sale.remaining
            }, "the gate never came back to the store's \(before.sale.remaining): \(moves)")
        #expect(shop.functionPIDs() == pids, "a function process died while the disk was full\n\(shop.logTail)")
        // What the functions logged meanwhile (the log could not take it) went to serve's stderr,
        // which lighttpd hands to the processes it spawns.
        #expect(disk.size(of: serve.data.functionLog) == functionLogSize)
        #expect(serve.log.contains("cannot write \(serve.data.functionLog): No space left on device"), "\(serve.log)")
        #expect(serve.log.contains("answered 503 busy: the database cannot write now"), "\(serve.log)")

        // Space returns: the refused buyers buy, and the sale sells out with exactly its stock.
        disk.free()
        #expect(filled > 0)
        for index in 0..<5 {
            let answer = shop.buyRetrying("late\(index)", sale: sale.id)
            #expect(answer?.status == 201, "\(answer?.status ?? 0) \(answer?.text ?? "")\n\(shop.logTail)")
        }
        for index in 0..<20 {
            let answer = shop.buyRetrying("rest\(index)", sale: sale.id)
            #expect([201, 409].contains(answer?.status ?? 0), "\(answer?.status ?? 0) \(answer?.text ?? "")")
        }
        let after = try shop.truth(sale.id)
        #expect(after.sale.remaining == 0 && after.orders.count == 20)
        #expect(Set(after.orders.map(\.user)).count == 20)
        #expect(Set(after.orders.map(\.user)).isSuperset(of: (0..<5).map { "late\($0)" }))
        #expect(shop.functionPIDs() == pids, "a function process died\n\(shop.logTail)")
        let logs = serve.log + shop.functionLog
        for crash in ["Fatal error", "Crash", "signal 7", "SIGBUS", "SIGSEGV", "Backtrace"] {
            #expect(!logs.contains(crash), "\(crash) in the logs:\n\(shop.logTail)")
        }
        #expect(serve.stop() == 0)
    }
}

/// A tmpfs of `megabytes` mounted on a fresh directory, filled to ENOSPC by `fill` and freed
/// by `free`. `unmount` detaches it even while something still holds a file on it.
final class SmallFilesystem {
    let directory: TemporaryDirectory
    var path: String { directory.path + "/mnt" }
    var fillPath: String { path + "/fill" }

    init(megabytes: Int) throws {
        directory = try TemporaryDirectory("disk-full")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard mount("tmpfs", path, "tmpfs", 0, "size=\(megabytes)m,mode=0755") == 0 else {
            let reason = String(cString: strerror(errno))
            directory.remove()
            throw DiskError("mount -t tmpfs -o size=\(megabytes)m tmpfs \(path): \(reason)")
        }
    }

    func unmount() {
        if umount2(path, 0) != 0 { umount2(path, Int32(MNT_DETACH)) }
        directory.remove()
    }

    /// Writes a file until the filesystem answers ENOSPC; the bytes written.
    func fill() throws -> Int {
        let fd = open(fillPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DiskError("open \(fillPath): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var total = 0
        for chunk in [1 << 20, 4096, 1] {
            let bytes = [UInt8](repeating: 0, count: chunk)
            while true {
                let count = write(fd, bytes, chunk)
                if count > 0 {
                    total += count
                } else if errno == ENOSPC {
                    break
                } else {
                    throw DiskError("write \(fillPath): \(String(cString: strerror(errno)))")
                }
            }
        }
        return total
    }

    func free() {
        unlink(fillPath)
    }

    func size(of path: String) -> Int {
        var status = stat()
        return stat(path, &status) == 0 ? Int(status.st_size) : -1
    }
}

/// Buyers of a `flashsale serve` whose data directory the test chose, and the operator's desk
/// on it (LiveShop makes its own data directory).
final class DiskShop {
    let serve: ServeProcess
    let desk: EmbeddedDesk
    let identitySigner: TokenSigner
    /// The last proof-of-work counter used, by nonce.
    private var solved: [String: Int] = [:]

    init(_ serve: ServeProcess) throws {
        self.serve = serve
        let data = serve.data
        desk = try EmbeddedDesk(databasePath: data.database, segmentPath: data.segment, nowMs: Self.now())
        identitySigner = TokenSigner(secret: try data.keyBytes(data.identityKey))
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    func request(_ method: String, _ target: String, user: String? = nil, body: String = "") throws -> HTTPAnswer {
        let headers = try user.map {
            ["Authorization": "Bearer \(try identitySigner.sign(UserClaims(user: $0, expires: Date() + 600)))"]
        }
        return try HTTPClient.request(
            port: serve.port, method: method, target: target, headers: headers ?? [:], body: Array(body.utf8))
    }

    /// `withWork`: with a fresh proof of work, for a sale that asks for one.
    func askToken(_ user: String, sale: String, withWork: Bool = false) throws -> HTTPAnswer {
        guard withWork else { return try request("POST", "/api/token", user: user, body: #"{"sale":"\#(sale)"}"#) }
        let challenge = try request("GET", "/api/captcha/pow?sale=\(sale)")
        guard let nonce = try? challenge.json()["nonce"] as? String, let bits = try desk.store.sale(sale)?.powBits
        else { return challenge }
        // A nonce lasts a while: each buyer spends a solution no one spent before.
        let counter = ((solved[nonce].map { $0 + 1 } ?? 0)...).first {
            ProofOfWork.solves(nonce: nonce, counter: "\($0)", bits: Int(bits))
        }!
        solved[nonce] = counter
        return try request(
            "POST", "/api/token", user: user,
            body: #"{"sale":"\#(sale)","pow":{"nonce":"\#(nonce)","counter":"\#(counter)"}}"#)
    }

    func order(_ user: String, path: String, sale: String, token: String) throws -> HTTPAnswer {
        try request("POST", path, user: user, body: #"{"sale":"\#(sale)","token":"\#(token)"}"#)
    }

    func buy(_ user: String, sale: String) throws -> HTTPAnswer {
        let token = try askToken(user, sale: sale)
        guard token.status == 200, let issued = try? token.json(), let url = issued["orderUrl"] as? String,
            let value = issued["token"] as? String
        else { return token }
        return try order(user, path: url, sale: sale, token: value)
    }

    /// A buyer who tries again after a 5xx, as the page does (its Retry-After is a second; the
    /// test's buyers come back sooner); the last answer.
    func buyRetrying(_ user: String, sale: String, attempts: Int = 100) -> HTTPAnswer? {
        var answer: HTTPAnswer?
        for _ in 0..<attempts {
            answer = try? buy(user, sale: sale)
            if let status = answer?.status, status < 500 { return answer }
            usleep(50_000)
        }
        return answer
    }

    func truth(_ sale: String) throws -> (sale: Sale, orders: [Order]) {
        (try #require(try desk.store.sale(sale)), try desk.store.orders(ofSale: sale))
    }

    func slot(_ sale: Sale) throws -> SaleSlot {
        try StockSegment(path: serve.data.segment, databaseID: desk.store.databaseID).slot(at: sale.slot)
    }

    /// The pids of the buying functions, by name.
    func functionPIDs() -> [String: Set<pid_t>] {
        Dictionary(uniqueKeysWithValues: ["order", "token", "precheck"].map { ($0, Set(serve.functionPIDs($0))) })
    }

    var functionLog: String { (try? String(contentsOfFile: serve.data.functionLog, encoding: .utf8)) ?? "" }

    var logTail: String {
        let functions = functionLog.split(separator: "\n").suffix(15).joined(separator: "\n")
        let printed = serve.log.split(separator: "\n").suffix(15).joined(separator: "\n")
        return "functions.log:\n\(functions)\nserve:\n\(printed)"
    }
}

struct DiskError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
