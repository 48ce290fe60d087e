import Basics
import Logging
import PostgresStore
import Sales
import Segment
import Store
import Synchronization

/// The backend of a data directory, as one function process holds it: its stock segment as
/// the gate, and as the store its SQLite database (the embedded backend, which needs nothing
/// but the directory) or a PostgreSQL server (``StoreAddress``). Both are opened again when
/// the segment file is replaced or truncated under the process.
///
/// Each request runs in a session of its own: a process serving on several threads opens a
/// session (its own SQLite connection and mapping of the segment) for each request it runs at
/// once, and keeps them for the next.
///
/// `@unchecked Sendable`: a session, which is not, is used by one request at a time: taken
/// from `idle` under `lock` and put back when the request is done.
public final class EmbeddedBackend: SaleBackend, @unchecked Sendable {
    /// What the backend is opened with.
    public struct Options: Sendable, Equatable {
        /// How often one process reconciles a sale's slot from SQLite while buyers ask for it.
        public var reconcileIntervalMs: Int64
        /// How order commits reach the disk.
        public var synchronous: Durability
        /// How many entries of the segment's commit queue are used.
        public var commitQueue: Int
        /// How long a won order waits to be committed before its buyer is answered `busy`.
        public var commitWaitMs: Int64
        /// Where a fault drill holds the process that commits a group, if anywhere.
        public var pauseAt: CommitPoint?
        /// Where the truth is kept.
        public var store: StoreAddress
        /// Where the gate's shared tables are kept.
        public var gate: GateAddress

        public init(
            reconcileIntervalMs: Int64 = 2_000, synchronous: Durability = .full, commitQueue: Int = 256,
            commitWaitMs: Int64 = 3_000, pauseAt: CommitPoint? = nil, store: StoreAddress = .embedded,
            gate: GateAddress = .embedded
        ) {
            self.store = store
            self.gate = gate
            self.reconcileIntervalMs = reconcileIntervalMs
            self.synchronous = synchronous
            self.commitQueue = commitQueue
            self.commitWaitMs = commitWaitMs
            self.pauseAt = pauseAt
        }
    }

    private let lock = Mutex(())
    private var idle: [any SegmentSession]
    private var openFailureLoggedAtMs: Int64?
    private let clock: @Sendable () -> Int64
    /// Opens a session over the store the options name; `true`: reconciling every sale.
    private let open: @Sendable (_ reconciling: Bool) throws -> any SegmentSession

    /// Opens the directory's segment and the store, and reconciles every sale that has not
    /// ended: a process started in place of one killed mid-order returns the unit it held.
    public init(
        data: DataDirectory, options: Options, clock: @escaping @Sendable () -> Int64 = wallClockMilliseconds
    ) throws {
        self.clock = clock
        let tables: SharedTablesSource? =
            switch options.gate {
            case .embedded: nil
            case .redis(let url): SharedTablesSource(url: url)
            }
        let synchronous = options.synchronous
        switch options.store {
        case .embedded:
            open = { reconciling in
                try EmbeddedSession(
                    data: data, options: options, tables: tables, clock: clock, reconciling: reconciling
                ) { try SQLiteSaleStore(path: data.database, synchronous: synchronous) }
            }
        case .postgres(let url):
            open = { reconciling in
                try EmbeddedSession(
                    data: data, options: options, tables: tables, clock: clock, reconciling: reconciling
                ) { try PostgresSaleStore(url: url, synchronous: synchronous) }
            }
        }
        idle = [try open(true)]
    }

    public func inSession<T: Sendable>(_ body: (any BackendSession) throws -> T) throws -> T {
        let session = try lock.withLock { _ in idle.popLast() } ?? openSession()
        defer { lock.withLock { _ in idle.append(session) } }
        return try session.run(body)
    }

    /// A session for one more request at once. It reconciles nothing as it opens (the process
    /// did at start); one that cannot open now (no file descriptor left, the database busy or
    /// a segment it cannot map) is `busy` for this request, logged at most once a second.
    private func openSession() throws -> any SegmentSession {
        do {
            return try open(false)
        } catch {
            let now = clock()
            let due = lock.withLock { _ -> Bool in
                guard isDue(since: openFailureLoggedAtMs, nowMs: now, intervalMs: 1_000) else { return false }
                openFailureLoggedAtMs = now
                return true
            }
            if due { Logger(label: "flashsale.backend").warning("answered 503 busy: cannot open a session: \(error)") }
            throw Refusal.storeBusy
        }
    }
}

/// Where the truth is kept: the data directory's SQLite database, or a PostgreSQL server that
/// the hosts of a sale share.
public enum StoreAddress: Sendable, Equatable {
    case embedded
    /// A `postgres://` URL or conninfo; several hosts with `target_session_attrs=read-write`.
    case postgres(url: String)
}

/// Where the gate's tables (account leases, spent challenges, address rates) are kept: in each
/// host's segment, or in a Redis server that the hosts of a sale share. The stock is always in
/// the host's segment.
public enum GateAddress: Sendable, Equatable {
    case embedded
    /// A `redis://` URL.
    case redis(url: String)
}

/// One session of ``EmbeddedBackend``, whatever its store.
protocol SegmentSession: BackendSession {
    func run<T>(_ body: (any BackendSession) throws -> T) throws -> T
}

/// Whether the failed sync that stopped orders was logged: once a process, at critical.
private let ordersStoppedLogged = Atomic(false)

/// The backend's state in one session: the desk (opened again when its segment is replaced),
/// the map of sale keys to slots, and when faults were last logged. Only ``EmbeddedBackend``
/// holds it, behind its lock.
final class EmbeddedSession<Store: GroupCommitStore>: SegmentSession {
    private let data: DataDirectory
    private let options: Options
    private let openStore: () throws -> Store
    private var desk: SaleDesk<Store, StockSegment>
    /// Where the process's Redis tables come from, when the gate shares them across hosts.
    private let tables: SharedTablesSource?
    /// The segment for the stock and Redis for the tables, when the tables are shared.
    private var sharedGate: SharedTablesGate?
    private let catalog = SaleCatalog()
    /// Sale key → slot index of every configured slot, from the last scan of the segment.
    private var slotIndexByKey: [UInt64: Int] = [:]
    private var slotsScannedAtMs: Int64?
    private var segmentCheckedAtMs: Int64
    /// When a fault of the disk (not a busy lock) was last logged: at most one line a second.
    private var faultLoggedAtMs: Int64?
    private let logger = Logger(label: "flashsale.backend")
    /// Per sale (and its creation, which the demo's restart changes), its question captcha's
    /// questions, read once.
    private var questionsBySale: [String: [SaleQuestion]] = [:]

    typealias Options = EmbeddedBackend.Options

    private let clock: @Sendable () -> Int64
    private let committer: GroupCommitter

    /// Opens the desk over the store `openStore` opens; `reconciling`, reconciles every sale
    /// that has not ended.
    init(
        data: DataDirectory, options: Options, tables: SharedTablesSource?, clock: @escaping @Sendable () -> Int64,
        reconciling: Bool, openStore: @escaping () throws -> Store
    ) throws {
        self.data = data
        self.options = options
        self.tables = tables
        self.clock = clock
        self.openStore = openStore
        committer = GroupCommitter(
            queueLimit: options.commitQueue, waitMs: options.commitWaitMs, pauseAt: options.pauseAt)
        let nowMs = clock()
        let opened = try Self.openDesk(data: data, committer: committer, openStore: openStore, nowMs: nowMs)
        desk = opened
        segmentCheckedAtMs = nowMs
        sharedGate = tables.map {
            SharedTablesGate(segment: opened.segment, tables: $0.tables(databaseID: opened.store.databaseID))
        }
        if reconciling { try desk.reconcileUnended(nowMs: nowMs) }
    }

    private static func openDesk(
        data: DataDirectory, committer: GroupCommitter, openStore: () throws -> Store, nowMs: Int64
    ) throws -> SaleDesk<Store, StockSegment> {
        let store = try openStore()
        if committer.pauseAt != nil, let sqlite = store as? SQLiteSaleStore {
            sqlite.onCommitPoint = { [committer] in committer.pause(at: $0) }
        }
        return try SaleDesk(
            store: store, gate: StockSegment(path: data.segment, databaseID: store.databaseID), nowMs: nowMs)
    }

    var store: any SaleStore { desk.store }
    var gate: any SaleGate { sharedGate ?? desk.gate }
    var hasFaulted: Bool { desk.segment.hasFaulted }

    /// Runs one request. A segment whose file was truncated under the process (its mapping
    /// faulted into zeros) is opened again first, and a refusal decided while it faulted is
    /// `busy`, since it read zeros, not stock. A database that stays locked past its busy
    /// timeout, or cannot write for a moment, is `busy`, not an internal error.
    func run<T>(_ body: (any BackendSession) throws -> T) throws -> T {
        do {
            if desk.segment.hasFaulted { try reopen(nowMs: clock()) }
            let segment = desk.segment
            do {
                return try body(self)
            } catch is Refusal where segment.hasFaulted {
                throw Refusal.gateRebuilding
            }
        } catch let error as StoreError where error.isTransient {
            if case .database(let fault) = error, !fault.isBusy {
                logFault("the database cannot write now: \(fault)")
            }
            throw Refusal.storeBusy
        } catch let error as StoreError where error.stopsOrders {
            if !ordersStoppedLogged.exchange(true, ordering: .relaxed) {
                logger.critical("answered 503 busy: \(error)")
            }
            throw Refusal.ordersStopped
        } catch let error as SegmentError where error.isTransient {
            // The segment could not be rebuilt (a truncated file on a full disk, say).
            logFault("the stock segment cannot be opened now: \(error)")
            throw Refusal.storeBusy
        }
    }

    /// Logs a fault answered `busy`, at most once a second, so a full disk does not flood the log.
    private func logFault(_ message: String) {
        let now = clock()
        guard isDue(since: faultLoggedAtMs, nowMs: now, intervalMs: 1_000) else { return }
        faultLoggedAtMs = now
        logger.warning("answered 503 busy: \(message)")
    }

    func sale(id: String, nowMs: Int64) throws -> Sale? {
        try catalog.sale(id: id, store: desk.store, nowMs: nowMs)
    }

    func sale(secret: String, nowMs: Int64) throws -> Sale? {
        try catalog.sale(secret: secret, store: desk.store, nowMs: nowMs)
    }

    func questions(of sale: Sale) throws -> [SaleQuestion] {
        let key = "\(sale.id)@\(sale.createdAt)"
        if let known = questionsBySale[key] { return known }
        let questions = try desk.store.questions(ofSale: sale.id)
        questionsBySale[key] = questions
        return questions
    }

    /// The slot of `sale`: configured from SQLite when it does not hold the sale (a rebuilt or
    /// corrupted segment), and reconciled when the last reconciliation is older than the
    /// interval. A segment file deleted, replaced or truncated under the process is opened again
    /// first.
    func stock(of sale: Sale, nowMs: Int64) throws -> any SaleStock {
        let slot = desk.segment.slot(at: sale.slot)
        let configured = slot.terms() == sale.stockTerms
        guard !configured || slot.claimReconciliation(nowMs: nowMs, intervalMs: options.reconcileIntervalMs) else {
            return slot
        }
        if !desk.segment.isCurrent() {
            try reopen(nowMs: nowMs)
        }
        try desk.reconcile(sale.id, nowMs: nowMs)
        return desk.segment.slot(at: sale.slot)
    }

    func placeOrder(_ entry: OrderEntry) throws(StoreError) -> Order {
        let queue = desk.segment.commitQueue(limit: committer.queueLimit)
        return try committer.place(entry, queue: queue, store: desk.store, clock: clock) { sales in
            for id in sales {
                if let sale = try? sale(id: id, nowMs: clock()) { desk.gate.stock(of: sale).increment(.groupCommits) }
            }
        }
    }

    func returnUnit(of sale: Sale, stock: any SaleStock, soldOutInStore: Bool, nowMs: Int64) {
        if soldOutInStore, (try? desk.reconcile(sale.id, nowMs: nowMs)) != nil { return }
        stock.giveBack()
    }

    /// The slot configured for sale `id`, from the segment (no database read): a map of sale
    /// keys to slots, rebuilt by a scan of the segment when a key is missing or points to a slot
    /// that no longer holds it, at most once a second. Every reconcile interval the segment file
    /// is checked and, if replaced, opened again; and the one process per interval that wins the
    /// slot's reconciliation claim reconciles it from SQLite, so that a stale sold-out flag is
    /// corrected even when the page, trusting precheck, asks nothing else. A segment that faulted
    /// while it was read (its file truncated) is opened again and read again.
    func stock(saleID id: String, nowMs: Int64) throws -> (any SaleStock)? {
        let slot = try findSlot(saleID: id, nowMs: nowMs)
        guard desk.segment.hasFaulted else { return slot }
        try reopen(nowMs: nowMs)
        return try findSlot(saleID: id, nowMs: nowMs)
    }

    private func findSlot(saleID id: String, nowMs: Int64) throws -> SaleSlot? {
        if isDue(since: segmentCheckedAtMs, nowMs: nowMs, intervalMs: options.reconcileIntervalMs) {
            segmentCheckedAtMs = nowMs
            if !desk.segment.isCurrent() { try reopen(nowMs: nowMs) }
        }
        let key = StockTerms.saleKey(id)
        var slot = slotIndexByKey[key].map { desk.segment.slot(at: $0) }
        if slot?.terms()?.saleKey != key {
            guard isDue(since: slotsScannedAtMs, nowMs: nowMs, intervalMs: 1_000) else { return nil }
            rescan(nowMs: nowMs)
            slot = slotIndexByKey[key].map { desk.segment.slot(at: $0) }
        }
        guard let slot, slot.terms()?.saleKey == key else { return nil }
        if slot.claimReconciliation(nowMs: nowMs, intervalMs: options.reconcileIntervalMs) {
            _ = try? desk.reconcile(id, nowMs: nowMs)  // an id that only shares the key is no sale: nothing to do
        }
        return slot
    }

    private func rescan(nowMs: Int64) {
        var map: [UInt64: Int] = [:]
        for index in 0..<StockSegment.slotCount {
            if let key = desk.segment.slot(at: index).terms()?.saleKey { map[key] = index }
        }
        slotIndexByKey = map
        slotsScannedAtMs = nowMs
    }

    /// Opens the segment file again (and the database with it); the new desk reconciles every
    /// sale whose slot is not configured, so a rebuilt segment starts from SQLite.
    private func reopen(nowMs: Int64) throws {
        desk = try Self.openDesk(data: data, committer: committer, openStore: openStore, nowMs: nowMs)
        sharedGate = tables.map {
            SharedTablesGate(segment: desk.segment, tables: $0.tables(databaseID: desk.store.databaseID))
        }
        slotsScannedAtMs = nil
    }
}
