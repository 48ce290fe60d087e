import Sales
import Synchronization
import TestSupport
import Testing

/// One request of an account at a time, single-use challenges used once, and no lease that a
/// dead process can hold for ever.
@Suite struct LeaseContractTests {
    static let account: UInt64 = 0x5EED_0000_0000_0A11

    @Test(arguments: BackendKind.all)
    func aLeaseIsHeldUntilItIsGivenBack(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(2)
        let now = storage.clock.nowMs
        let accounts = try backends[0].inSession { $0.gate.accounts }
        let elsewhere = try backends[1].inSession { $0.gate.accounts }
        guard case .acquired(let lease) = accounts.acquire(Self.account, nowMs: now, leaseMs: 5_000) else {
            Issue.record("a free account's lease was not acquired")
            return
        }
        #expect(accounts.isHeld(Self.account, nowMs: now))
        #expect(elsewhere.isHeld(Self.account, nowMs: now + 1_000))
        #expect(accounts.acquire(Self.account, nowMs: now, leaseMs: 5_000) == .busy)
        #expect(elsewhere.acquire(Self.account, nowMs: now + 1_000, leaseMs: 5_000) == .busy)
        #expect(!accounts.isHeld(Self.account &+ 1, nowMs: now))
        accounts.release(lease)
        #expect(!elsewhere.isHeld(Self.account, nowMs: now + 1_000))
        #expect(acquired(accounts.acquire(Self.account, nowMs: now + 1_000, leaseMs: 5_000)))
    }

    @Test(arguments: BackendKind.all)
    func aLeaseNeverGivenBackExpires(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(2)
        let accounts = try backends[0].inSession { $0.gate.accounts }
        let elsewhere = try backends[1].inSession { $0.gate.accounts }
        let leaseMs: Int64 = 1_000
        #expect(accounts.maxLeaseMs >= leaseMs)
        let taken = storage.clock.nowMs
        guard case .acquired(let first) = accounts.acquire(Self.account, nowMs: taken, leaseMs: leaseMs) else {
            Issue.record("a free account's lease was not acquired")
            return
        }
        // It may end up to one tick early, never sooner.
        let stillHeld = taken + leaseMs - accounts.tickMs
        #expect(elsewhere.isHeld(Self.account, nowMs: stillHeld))
        #expect(elsewhere.acquire(Self.account, nowMs: stillHeld, leaseMs: leaseMs) == .busy)
        // Its process died: past its end (and one tick), anyone takes it.
        let ended = taken + leaseMs + accounts.tickMs
        #expect(!elsewhere.isHeld(Self.account, nowMs: ended))
        guard case .acquired(let second) = elsewhere.acquire(Self.account, nowMs: ended, leaseMs: leaseMs) else {
            Issue.record("an expired lease was not acquired again")
            return
        }
        // The first holder, late, gives back what is now another's lease: it stays held.
        accounts.release(first)
        #expect(accounts.isHeld(Self.account, nowMs: ended))
        #expect(accounts.acquire(Self.account, nowMs: ended, leaseMs: leaseMs) == .busy)
        elsewhere.release(second)
        #expect(!accounts.isHeld(Self.account, nowMs: ended))
    }

    @Test(arguments: BackendKind.all)
    func anAccountRequestedFromEveryBackendAtOnceHasOneHolder(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(Crowd.backends)
        let tables = try backends.map { try $0.inSession { $0.gate.accounts } }
        let accounts = (1...1_000).map { Self.account &+ UInt64($0) &* 0x9E37_79B9_7F4A_7C15 }
        try Self.expectOneHolder(of: accounts, in: tables, nowMs: storage.clock.nowMs, leaseMs: 5_000)
    }

    @Test(arguments: BackendKind.all)
    func aSingleUseKeyIsSpentOnceWhoeverSpendsItAtOnce(_ kind: BackendKind) throws {
        let storage = try kind.freshStorage()
        defer { storage.remove() }
        let backends = try storage.openBackends(Crowd.backends)
        let tables = try backends.map { try $0.inSession { $0.gate.spent } }
        let challenges = (1...1_000).map { UInt64($0) &* 0xC2B2_AE3D_27D4_EB4F }
        let now = storage.clock.nowMs
        try Self.expectOneHolder(of: challenges, in: tables, nowMs: now, leaseMs: 60_000)
        #expect(challenges.allSatisfy { tables[1].isHeld($0, nowMs: now + 30_000) })
    }

    /// Every thread takes each of `keys` in turn, in the same order, from its backend's table
    /// (held outside `inSession`, so that the threads meet on every key): each key has one holder.
    static func expectOneHolder(of keys: [UInt64], in tables: [any LeaseTable], nowMs: Int64, leaseMs: Int64) throws {
        let holders = Mutex<[UInt64: Int]>([:])
        let outcomes = Outcomes()
        #expect(
            onThreads(Crowd.threads) { thread in
                var tally: [String: Int] = [:]
                var held: [UInt64] = []
                for key in keys {
                    let outcome = firstAnswer(tables[thread % tables.count], key: key, nowMs: nowMs, leaseMs: leaseMs)
                    tally[name(outcome), default: 0] += 1
                    if acquired(outcome) { held.append(key) }
                }
                outcomes.add(tally)
                holders.withLock { holders in
                    for key in held { holders[key, default: 0] += 1 }
                }
            })
        #expect(outcomes.all == ["acquired": keys.count, "busy": keys.count * (Crowd.threads - 1)])
        #expect(holders.withLock { $0 } == Dictionary(uniqueKeysWithValues: keys.map { ($0, 1) }))
    }

    static func name(_ outcome: LeaseOutcome) -> String {
        switch outcome {
        case .acquired: "acquired"
        case .busy: "busy"
        case .contended: "contended"
        case .tableFull: "tableFull"
        case .unavailable: "unavailable"
        }
    }
}

func acquired(_ outcome: LeaseOutcome) -> Bool {
    if case .acquired = outcome { return true }
    return false
}

/// Acquires `key`, asking again while the answer is `contended` ("a retry gets in"), a few times.
func firstAnswer(_ table: any LeaseTable, key: UInt64, nowMs: Int64, leaseMs: Int64) -> LeaseOutcome {
    var outcome = LeaseOutcome.contended
    for _ in 0..<20 where outcome == .contended {
        outcome = table.acquire(key, nowMs: nowMs, leaseMs: leaseMs)
    }
    return outcome
}
