import Backends
import Basics
import Sales
import Synchronization
import TestSupport

/// The backends the contract suite runs over. A new backend is one more case here and one more
/// factory in ``freshStorage()``; every test then runs over it too.
enum BackendKind: String, CaseIterable, Sendable, CustomStringConvertible {
    /// SQLite and the memory-mapped stock segment in one data directory.
    case embedded
    /// PostgreSQL as the store (a database of its own on the test's server), the stock segment
    /// of a data directory as the gate.
    case postgresStore = "postgres-store"
    /// What the hosts of one sale run: PostgreSQL as the store, Redis for the gate's shared
    /// tables, each host's stock segment for the stock.
    case distributed

    static let all = allCases

    var description: String { rawValue }

    /// Empty storage of this kind, which a test opens backends over and removes when done.
    func freshStorage() throws -> ContractStorage {
        switch self {
        case .embedded: try ContractStorage.embedded()
        case .postgresStore:
            try ContractStorage.segment(
                kind: .postgresStore, store: { .postgres(url: try PostgresServer.shared().createDatabase($0)) })
        case .distributed:
            try ContractStorage.segment(
                kind: .distributed, store: { .postgres(url: try PostgresServer.shared().createDatabase($0)) },
                gate: .redis(url: try RedisServer.shared().url))
        }
    }
}

/// One test's storage: whatever its backends keep state in (a data directory; servers), shared
/// by every backend opened over it as the processes of one or several hosts share theirs.
final class ContractStorage: Sendable {
    let kind: BackendKind
    /// The time every backend over this storage reads.
    let clock: TestClock
    /// How often a backend reconciles a sale's stock from the store while buyers ask for it.
    let reconcileIntervalMs: Int64
    /// How many gate calls each thread of a concurrency test makes: enough that the threads
    /// run over one another rather than one after another.
    let gateCallsPerThread: Int
    private let open: @Sendable () throws -> any SaleBackend
    private let cleanUp: @Sendable () -> Void

    init(
        kind: BackendKind, clock: TestClock, reconcileIntervalMs: Int64, gateCallsPerThread: Int,
        open: @escaping @Sendable () throws -> any SaleBackend, cleanUp: @escaping @Sendable () -> Void
    ) {
        self.kind = kind
        self.clock = clock
        self.reconcileIntervalMs = reconcileIntervalMs
        self.gateCallsPerThread = gateCallsPerThread
        self.open = open
        self.cleanUp = cleanUp
    }

    /// A new backend over this storage, as one more process would open it.
    func openBackend() throws -> any SaleBackend { try open() }

    /// `count` backends over this storage, each on its own connections.
    func openBackends(_ count: Int) throws -> [any SaleBackend] {
        try (0..<count).map { _ in try open() }
    }

    /// Deletes the storage; the test's backends are not used after.
    func remove() { cleanUp() }

    /// A fresh data directory under /tmp; the backend creates its database and segment there.
    static func embedded() throws -> ContractStorage {
        try segment(kind: .embedded) { _ in .embedded }
    }

    /// A fresh data directory under /tmp for the segment, and the store `store` makes for a
    /// fresh name (a database of that name on a server).
    static func segment(
        kind: BackendKind, store: (String) throws -> StoreAddress, gate: GateAddress = .embedded
    ) throws -> ContractStorage {
        let address = try store("contract_\(UInt64.random(in: 0...UInt64.max))")
        let directory = try TemporaryDirectory("contract")
        let data = DataDirectory(path: directory.path)
        do {
            try data.createKeys()
        } catch {
            directory.remove()
            throw error
        }
        let clock = TestClock()
        let options = EmbeddedBackend.Options(reconcileIntervalMs: 2_000, store: address, gate: gate)
        return ContractStorage(
            kind: kind, clock: clock, reconcileIntervalMs: options.reconcileIntervalMs, gateCallsPerThread: 50_000,
            open: { try EmbeddedBackend(data: data, options: options, clock: { clock.nowMs }) },
            cleanUp: { directory.remove() })
    }
}

/// A clock that moves only when the test moves it, read by the test and its backends alike.
final class TestClock: Sendable {
    /// Mid-2024, so that every time a test derives from it is a plausible, positive epoch time.
    static let start: Int64 = 1_720_000_000_000

    private let milliseconds = Atomic<Int64>(TestClock.start)

    var nowMs: Int64 { milliseconds.load(ordering: .relaxed) }

    /// Moves the clock on by `ms`, and answers the new time.
    @discardableResult
    func advance(by ms: Int64) -> Int64 {
        milliseconds.wrappingAdd(ms, ordering: .relaxed).newValue
    }
}
