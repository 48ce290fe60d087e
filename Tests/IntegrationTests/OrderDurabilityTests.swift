import Backends
import Basics
import Foundation
import Hosting
import Identity
import Sales
import Store
import TestSupport
import Testing

/// A 201 means durable (invariants 2 and 9): a real order process, watched by strace, answers
/// each order only after an fdatasync of the write-ahead log that covers the order's commit.
/// SQLite reads its own log without any sync, so reading the order back proves nothing; what
/// reaches the kernel, and in which order, does.
@Suite struct OrderDurabilityTests {
    /// What the order process did, in the order the kernel saw it.
    enum Event: Equatable {
        /// A write of the write-ahead log (a commit's frames).
        case logWrite
        /// A successful fdatasync or fsync of the write-ahead log.
        case logSync
        /// The write of a FastCGI answer with this status.
        case answer(Int)
    }

    static let calls = ["fdatasync", "fsync", "write", "pwrite64", "writev", "sendto", "sendmsg"]

    static func events(_ calls: [SyscallTrace.Call]) -> [Event] {
        calls.compactMap { call in
            if call.path.hasSuffix("-wal") {
                if ["fdatasync", "fsync"].contains(call.name) { return call.result == 0 ? .logSync : nil }
                return call.name.hasPrefix("write") || call.name == "pwrite64" ? .logWrite : nil
            }
            guard call.path.hasPrefix("socket:"),
                let status = call.arguments.firstMatch(of: #/Status: (\d{3})/#).flatMap({ Int($0.output.1) })
            else { return nil }
            return .answer(status)
        }
    }

    @Test(arguments: ["FULL", "NORMAL"])
    func eachOrderIsAnsweredAfterTheLogSyncThatCoversItAtFullAndNeverSyncedAtNormal(_ synchronous: String) throws {
        let directory = try TemporaryDirectory("durable")
        defer { directory.remove() }
        let data = DataDirectory(path: directory.path + "/var")
        try data.initialize()
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let desk = try EmbeddedDesk(databasePath: data.database, segmentPath: data.segment, nowMs: now)
        let sale = try desk.create(
            NewSale(id: "durable", title: "Durable", price: 1, stock: 10, startsAt: now, endsAt: nil), nowMs: now)
        let function = try FunctionProcess(
            "order", maxBodyBytes: 2048, data: data.path, environment: ["FLASHSALE_SYNCHRONOUS": synchronous])
        let identities = TokenSigner(secret: try data.keyBytes(data.identityKey))
        let orderTokens = TokenSigner(secret: try data.keyBytes(data.secretKey))
        let trace = try SyscallTrace(pid: function.process.pid, calls: Self.calls, output: directory.path + "/strace")

        let buyers = (0..<5).map { "buyer\($0)" }
        for buyer in buyers {
            let token = try orderTokens.sign(OrderTokenClaims(user: buyer, sale: sale.id, expires: Date() + 60))
            let body = Array(#"{"sale":"\#(sale.id)","token":"\#(token)"}"#.utf8)
            let identity = try identities.sign(UserClaims(user: buyer, expires: Date() + 60))
            let answer = try FastCGIClient.request(
                socketPath: function.socketPath,
                params: [
                    "REQUEST_METHOD": "POST", "REQUEST_URI": OrderPaths.order(secret: sale.secret),
                    "REMOTE_ADDR": "127.0.0.1", "CONTENT_TYPE": "application/json",
                    "CONTENT_LENGTH": String(body.count), "HTTP_AUTHORIZATION": "Bearer \(identity)",
                ], body: body)
            try #require(answer.status == 201, "\(buyer): \(answer.status) \(answer.text)")
        }
        let calls = try trace.stop()
        let events = Self.events(calls)
        let record = calls.map(\.description).joined(separator: "\n")

        #expect(try desk.store.orders(ofSale: sale.id).map(\.user) == buyers)
        // The trace saw every answer and every commit: a trace that sees nothing proves nothing.
        #expect(events.filter { $0 == .answer(201) }.count == buyers.count, "\(record)")
        #expect(events.filter { $0 == .logWrite }.count >= buyers.count, "\(record)")
        let syncs = events.filter { $0 == .logSync }.count
        if synchronous == "FULL" {
            // Before each answer, a sync after the last log write: that write (the order's commit)
            // is on disk when the buyer hears 201.
            var sinceLastWrite: [Event] = []
            for event in events {
                switch event {
                case .logWrite: sinceLastWrite = []
                case .logSync: sinceLastWrite.append(event)
                case .answer:
                    #expect(sinceLastWrite.contains(.logSync), "an answer before its commit was synced:\n\(record)")
                }
            }
            #expect(syncs >= buyers.count, "\(record)")
        } else {
            #expect(syncs == 0, "NORMAL syncs the log only at checkpoints:\n\(record)")
        }
    }
}

/// The order URL, spelled out here rather than taken from the code under test.
enum OrderPaths {
    static func order(secret: String) -> String { "/api/order/\(secret)" }
}
