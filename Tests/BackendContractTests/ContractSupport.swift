import Sales
import Synchronization
import TestSupport
import Testing

/// Threads a concurrent test runs on, and backends they share out: more threads than backends,
/// so that requests meet both inside one backend and across backends.
enum Crowd {
    static let threads = 8
    static let backends = 4
}

/// What concurrent calls answered, tallied by name: a test compares the whole tally, so an
/// unexpected answer shows up by its name.
final class Outcomes: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    func record(_ name: String) {
        counts.withLock { $0[name, default: 0] += 1 }
    }

    /// Runs `body` and records its answer: `success`, or the error's name.
    func record(_ success: String, _ body: () throws -> Void) {
        do {
            try body()
            record(success)
        } catch {
            record(Self.name(of: error))
        }
    }

    /// Adds a thread's own tally, kept apart while it ran so that recording does not pace the threads.
    func add(_ tally: [String: Int]) {
        counts.withLock { $0.merge(tally, uniquingKeysWith: +) }
    }

    var all: [String: Int] { counts.withLock { $0 } }

    /// A short name for the store's refusals, the refusal code for `busy` and the like.
    static func name(of error: any Error) -> String {
        switch error {
        case StoreError.soldOut: "soldOut"
        case StoreError.alreadyOrdered: "alreadyOrdered"
        case let refusal as Refusal: "refused \(refusal.reason.rawValue)"
        default: "\(error)"
        }
    }
}

/// The lowest value seen across threads.
final class Lowest: Sendable {
    private let value = Mutex<Int64>(.max)

    func see(_ candidate: Int64) {
        value.withLock { $0 = min($0, candidate) }
    }

    var seen: Int64 { value.withLock { $0 } }
}

extension ContractStorage {
    /// A sale open from a second ago for an hour, created through `backend`'s store.
    func createSale(
        _ id: String = "spring", stock: Int64, on backend: any SaleBackend, questions: [SaleQuestion] = []
    ) throws -> Sale {
        let now = clock.nowMs
        let new = NewSale(
            id: id, title: "Sale \(id)", price: 1_999, stock: stock, startsAt: now - 1_000,
            endsAt: now + 3_600_000, captcha: questions.isEmpty ? .off : .question, questions: questions)
        return try backend.inSession { session in try session.store.create(new, nowMs: now) }
    }

    /// Creates a sale on the first of `backends` and brings its stock into the gate; every
    /// backend then answers for it.
    func openSale(stock: Int64, on backends: [any SaleBackend]) throws -> Sale {
        let sale = try createSale(stock: stock, on: backends[0])
        _ = try self.stock(of: sale, on: backends[0])
        return sale
    }

    /// The sale's stock as `backend` brings it into the gate now, for a request that may read the store.
    func stock(of sale: Sale, on backend: any SaleBackend) throws -> any SaleStock {
        let now = clock.nowMs
        return try backend.inSession { session in try session.stock(of: sale, nowMs: now) }
    }

    /// The sale as the store holds it now.
    func stored(_ sale: Sale, on backend: any SaleBackend) throws -> Sale {
        try #require(try backend.inSession { session in try session.store.sale(sale.id) })
    }

    /// The sale's orders as the store holds them now.
    func orders(of sale: Sale, on backend: any SaleBackend) throws -> [Order] {
        try backend.inSession { session in try session.store.orders(ofSale: sale.id) }
    }

    /// Places `user`'s order through `backend`'s store, now.
    @discardableResult
    func placeOrder(_ sale: Sale, user: String, on backend: any SaleBackend) throws -> Order {
        let now = clock.nowMs
        return try backend.inSession { session in try session.store.placeOrder(sale: sale.id, user: user, nowMs: now) }
    }
}

/// One buyer's order as the buying path places it: a unit from the gate, then the order in the
/// store; an order that fails gives its unit back.
func buyOne(of sale: Sale, user: String, in session: any BackendSession, nowMs: Int64) throws {
    let stock = try session.stock(of: sale, nowMs: nowMs)
    guard stock.takeOne() else { throw TakeRefused() }
    do throws(StoreError) {
        _ = try session.store.placeOrder(sale: sale.id, user: user, nowMs: nowMs)
    } catch {
        session.returnUnit(of: sale, stock: stock, soldOutInStore: error == .soldOut, nowMs: nowMs)
        throw error
    }
}

/// A take from the gate that found no unit left.
struct TakeRefused: Error, CustomStringConvertible {
    var description: String { "none left" }
}

/// Runs `body(thread, backend)` on ``Crowd/threads`` threads at once, thread `i` using backend
/// `i % backends.count`; true when all finished within a minute.
func onCrowd(
    _ backends: [any SaleBackend], _ body: @escaping @Sendable (Int, any SaleBackend) -> Void
) -> Bool {
    onThreads(Crowd.threads) { thread in body(thread, backends[thread % backends.count]) }
}
