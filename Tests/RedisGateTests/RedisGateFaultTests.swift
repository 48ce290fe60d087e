import Basics
import Redis
import RedisGate
import Sales
import TestSupport
import Testing

/// A gate whose Redis is gone answers at once, refusing rather than letting through, and works
/// again when Redis is back. Each test has a server of its own, which it kills or pauses.
@Suite struct RedisGateFaultTests {
    static let key: UInt64 = 0xFA17_0000_0000_0001
    /// Longer than any call may take with 300 ms timeouts (a call may reconnect once).
    static let bound: Duration = .seconds(2)

    @Test func aKilledServerAnswersUnavailableAndHeldAtOnceAndWorksWhenBack() throws {
        let server = try RedisServer()
        let pool = openPool(server.url, commandTimeoutMs: 300)
        let leases = RedisLeaseTable(pool: pool, name: "leases", maxLeaseMs: 60_000)
        let rates = RedisRateTable(pool: pool, name: "rates", maxPerSecond: 1_000)
        let lease = try #require(leases.acquire(Self.key, nowMs: fakeNowMs, leaseMs: 5_000).lease)
        #expect(rates.admit(Self.key, nowMs: fakeNowMs, perSecond: 1, maxBlockMs: 1_000) == .allowed)

        server.kill()
        // The first call finds the pooled connection dead, the next ones the server refusing.
        for attempt in 1...3 {
            let (acquired, acquireTook) = timed { leases.acquire(Self.key &+ 1, nowMs: fakeNowMs, leaseMs: 5_000) }
            #expect(acquired == .unavailable, "attempt \(attempt)")
            let (held, heldTook) = timed { leases.isHeld(Self.key &+ 1, nowMs: fakeNowMs) }
            #expect(held, "attempt \(attempt): a key that cannot be looked up counts as held")
            let (verdict, admitTook) = timed {
                rates.admit(Self.key, nowMs: fakeNowMs, perSecond: 1, maxBlockMs: 1_000)
            }
            #expect(verdict == .unavailable, "attempt \(attempt)")
            let ((), releaseTook) = timed { leases.release(lease) }
            #expect([acquireTook, heldTook, admitTook, releaseTook].allSatisfy { $0 < Self.bound })
        }

        try server.start()
        // Back, empty (it keeps nothing on disk), with no scripts loaded: once the pause after the
        // last failure is over, the same tables work.
        #expect(eventually(within: 5) { (try? pool.check()) != nil })
        #expect(!leases.isHeld(Self.key, nowMs: fakeNowMs))
        let again = try #require(leases.acquire(Self.key, nowMs: fakeNowMs, leaseMs: 5_000).lease)
        #expect(leases.acquire(Self.key, nowMs: fakeNowMs, leaseMs: 5_000) == .busy)
        leases.release(again)
        #expect(!leases.isHeld(Self.key, nowMs: fakeNowMs))
        #expect(rates.admit(Self.key, nowMs: fakeNowMs, perSecond: 1, maxBlockMs: 1_000) == .allowed)
        #expect(
            rates.admit(Self.key, nowMs: fakeNowMs, perSecond: 1, maxBlockMs: 1_000) == .limited(retryAfterMs: 1_000))
    }

    /// A server that stops answering (paused) costs each call its command timeout, no more.
    @Test func aServerThatDoesNotAnswerCostsACallItsTimeout() throws {
        let server = try RedisServer()
        let pool = openPool(server.url, commandTimeoutMs: 300)
        let leases = RedisLeaseTable(pool: pool, name: "leases", maxLeaseMs: 60_000)
        let rates = RedisRateTable(pool: pool, name: "rates", maxPerSecond: 1_000)
        #expect(leases.acquire(Self.key, nowMs: fakeNowMs, leaseMs: 5_000).lease != nil)

        let admin = try RedisConnection(url: server.url)
        #expect(try admin.command(["CLIENT", "PAUSE", "3000", "ALL"]) == .status("OK"))
        let (acquired, acquireTook) = timed { leases.acquire(Self.key &+ 1, nowMs: fakeNowMs, leaseMs: 5_000) }
        let (held, heldTook) = timed { leases.isHeld(Self.key &+ 1, nowMs: fakeNowMs) }
        let (verdict, admitTook) = timed { rates.admit(Self.key, nowMs: fakeNowMs, perSecond: 1, maxBlockMs: 1_000) }
        #expect(acquired == .unavailable)
        #expect(held)
        #expect(verdict == .unavailable)
        #expect([acquireTook, heldTook, admitTook].allSatisfy { $0 >= .milliseconds(250) && $0 < Self.bound })

        #expect(
            eventually(within: 5) { leases.isHeld(Self.key, nowMs: fakeNowMs) && !leases.isHeld(0, nowMs: fakeNowMs) })
        #expect(leases.acquire(Self.key, nowMs: fakeNowMs, leaseMs: 5_000) == .busy)
    }
}
