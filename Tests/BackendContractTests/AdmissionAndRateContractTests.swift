import Sales
import TestSupport
import Testing

/// Admission windows and request rates hold their limits exactly, whoever asks at once.
@Suite struct AdmissionAndRateContractTests {
    static let window: UInt32 = 7

    @Test(arguments: BackendKind.all)
    func anAdmissionWindowAdmitsItsLimitWhoeverAsksAtOnce(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(Crowd.backends)
        let sale = try storage.openSale(stock: 10, on: backends)
        let stocks = try backends.map { try storage.stock(of: sale, on: $0) }
        let calls = storage.gateCallsPerThread
        let limit = Int64(calls * Crowd.threads / 2)
        let outcomes = Outcomes()
        #expect(
            onThreads(Crowd.threads) { thread in
                var tally: [String: Int] = [:]
                for _ in 0..<calls {
                    let admitted = stocks[thread % stocks.count].admit(window: Self.window, limit: limit)
                    tally[admitted ? "admitted" : "full", default: 0] += 1
                }
                outcomes.add(tally)
            })
        #expect(outcomes.all == ["admitted": Int(limit), "full": calls * Crowd.threads - Int(limit)])
        let stock = try storage.stock(of: sale, on: backends[1])
        #expect(stock.admissions(inWindow: Self.window) == limit)
        // A buyer who ordered gives the admission back: one more gets in, and no more.
        stock.releaseAdmission(window: Self.window)
        #expect(stock.admissions(inWindow: Self.window) == limit - 1)
        #expect(stock.admit(window: Self.window, limit: limit))
        #expect(!stock.admit(window: Self.window, limit: limit))
    }

    @Test(arguments: BackendKind.all)
    func aNewAdmissionWindowStartsEmpty(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(2)
        let sale = try storage.openSale(stock: 10, on: backends)
        let stock = try storage.stock(of: sale, on: backends[0])
        for _ in 0..<3 { #expect(stock.admit(window: Self.window, limit: 3)) }
        #expect(!stock.admit(window: Self.window, limit: 3))
        let next = Self.window + 1
        let elsewhere = try storage.stock(of: sale, on: backends[1])
        #expect(elsewhere.admissions(inWindow: next) == 0)
        #expect(elsewhere.admit(window: next, limit: 3))
        #expect(stock.admissions(inWindow: next) == 1)
    }

    @Test(arguments: BackendKind.all)
    func aRateAllowsOneSecondsWorthAtOnceThenLimits(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backend = try storage.openBackend()
        let rates = try backend.inSession { $0.gate.rates }
        let now = storage.clock.nowMs
        let key: UInt64 = 0xADD2_E550_0000_0001
        for _ in 0..<10 { #expect(rates.admit(key, nowMs: now, perSecond: 10, maxBlockMs: 5_000) == .allowed) }
        var retryAfterMs: Int64 = 0
        for _ in 0..<5 {
            guard case .limited(let retry) = rates.admit(key, nowMs: now, perSecond: 10, maxBlockMs: 5_000) else {
                Issue.record("a request over the rate was not limited")
                return
            }
            #expect(retry > 0)
            retryAfterMs = retry
        }
        // Another key is counted on its own.
        #expect(rates.admit(key &+ 1, nowMs: now, perSecond: 10, maxBlockMs: 5_000) == .allowed)
        // One who waits as told is let in.
        #expect(rates.admit(key, nowMs: now + retryAfterMs, perSecond: 10, maxBlockMs: 5_000) == .allowed)
    }

    @Test(arguments: BackendKind.all)
    func aKeySendingAtItsRateIsNeverLimited(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(2)
        let key: UInt64 = 0xADD2_E550_0000_0002
        let start = storage.clock.nowMs
        for request in 0..<50 {
            let rates = try backends[request % 2].inSession { $0.gate.rates }
            let verdict = rates.admit(key, nowMs: start + Int64(request) * 100, perSecond: 10, maxBlockMs: 5_000)
            #expect(verdict == .allowed, "request \(request)")
        }
    }

    @Test(arguments: BackendKind.all)
    func aRateHoldsWhoeverSendsAtOnce(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(Crowd.backends)
        let now = storage.clock.nowMs
        let key: UInt64 = 0xADD2_E550_0000_0003
        let tables = try backends.map { try $0.inSession { $0.gate.rates } }
        let outcomes = Outcomes()
        #expect(
            onThreads(Crowd.threads) { thread in
                var tally: [String: Int] = [:]
                for _ in 0..<500 {
                    let verdict = tables[thread % tables.count].admit(
                        key, nowMs: now, perSecond: 1_000, maxBlockMs: 5_000)
                    switch verdict {
                    case .allowed: tally["allowed", default: 0] += 1
                    case .limited(let retryAfterMs):
                        tally[retryAfterMs > 0 ? "limited" : "limited at once", default: 0] += 1
                    case .tableFull: tally["tableFull", default: 0] += 1
                    case .unavailable: tally["unavailable", default: 0] += 1
                    }
                }
                outcomes.add(tally)
            })
        #expect(outcomes.all == ["allowed": 1_000, "limited": 500 * Crowd.threads - 1_000])
    }
}
