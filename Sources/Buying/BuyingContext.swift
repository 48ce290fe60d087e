import Basics
import Challenges
import FastCGI
import Foundation
import Identity
import Logging
import Sales
import Segment
import Store
import Synchronization

/// What the buying functions share in one process: the sales desk (SQLite and the stock
/// segment), the identity reader, the order-token signer and the cache of sales.
///
/// `@unchecked Sendable`: the mutable state (desk, catalog, slot map, busy gate)
/// is touched only inside `serially`, and a function process serves one request at a time, so
/// the lock is uncontended.
public final class BuyingContext: @unchecked Sendable {
    /// What the process was started with.
    public let settings: BuyingSettings
    let identity: IdentityReader
    let orderTokens: TokenSigner
    /// Digests of captcha answers, under the same secret as the order tokens.
    let answers: AnswerDigest
    /// Proof-of-work nonces, under the same secret.
    let work: ProofOfWork
    /// Where accounts, addresses and spent challenges land in the shared tables.
    let tableKeys: TableKeys
    /// The sales' admission windows, one token lifetime long each, their boundaries jittered.
    let windows: AdmissionWindows
    let clock: @Sendable () -> Int64

    private let lock = Mutex(())
    private let data: DataDirectory
    private var desk: SaleDesk
    private let catalog = SaleCatalog()
    let busyGate: BusyGate
    /// Sale key → slot index of every configured slot, from the last scan of the segment.
    private var slotIndexByKey: [UInt64: Int] = [:]
    private var slotsScannedAtMs: Int64?
    private var segmentCheckedAtMs: Int64
    /// When a fault of the disk (not a busy lock) was last logged: at most one line a second.
    private var faultLoggedAtMs: Int64?
    /// Whether the failed sync that stopped orders was logged (once, at critical).
    private var ordersStoppedLogged = false
    private let logger = Logger(label: "flashsale.buying")
    /// Per sale (and its creation, which the demo's restart changes), its question captcha's
    /// questions, read once.
    private var questionsBySale: [String: [SaleQuestion]] = [:]

    /// Opens the data directory's database, segment and keys, and reconciles every sale that has
    /// not ended: a process started in place of one killed mid-order returns the unit it held.
    public init(settings: BuyingSettings, clock: @escaping @Sendable () -> Int64 = wallClockMilliseconds) throws {
        self.settings = settings
        self.clock = clock
        data = DataDirectory(path: settings.dataDirectory)
        try data.checkUsable()
        identity = IdentityReader(signer: TokenSigner(secret: try data.keyBytes(data.identityKey)))
        let secret = try data.keyBytes(data.secretKey)
        orderTokens = TokenSigner(secret: secret)
        answers = AnswerDigest(secret: secret)
        work = ProofOfWork(secret: secret)
        tableKeys = TableKeys(secret: secret)
        windows = AdmissionWindows(secret: secret, lengthMs: settings.tokenLifetimeMs)
        busyGate = BusyGate(
            queueLimit: Int(settings.orderQueueLimit), maxRefusalsInARow: Int(settings.orderRefusalsInARow))
        let now = clock()
        desk = try Self.openDesk(data, settings: settings, nowMs: now)
        try desk.reconcileUnended(nowMs: now)
        segmentCheckedAtMs = now
    }

    /// Runs `body` alone: one request's reads and writes of the process state. A database that
    /// stays locked past its busy timeout is answered 503 `busy`, not 500.
    /// Every request that touches the segment comes through here: a segment whose file was
    /// truncated under the process (its mapping faulted into zeros) is opened again first, and a
    /// refusal decided while it faulted is answered 503 `busy`, since it read zeros, not stock.
    func serially<T>(_ body: () throws -> T) throws -> T {
        try lock.withLock { _ in
            do {
                if desk.segment.hasFaulted { try reopen(nowMs: clock()) }
                let segment = desk.segment
                do {
                    return try body()
                } catch is HTTPError where segment.hasFaulted {
                    throw Self.segmentFaulted
                }
            } catch let error as StoreError where error.isTransient {
                if case .database(let fault) = error, !fault.isBusy {
                    logFault("the database cannot write now: \(fault)")
                }
                throw SaleGate.databaseBusy
            } catch let error as StoreError where error.stopsOrders {
                if !ordersStoppedLogged {
                    ordersStoppedLogged = true
                    logger.critical("answered 503 busy: \(error)")
                }
                throw SaleGate.ordersStopped
            } catch let error as SegmentError where Self.isTransient(error) {
                // The segment could not be rebuilt (a truncated file on a full disk, say).
                logFault("the stock segment cannot be opened now: \(error)")
                throw SaleGate.databaseBusy
            }
        }
    }

    /// A failed call on the segment file that may pass once space returns or the disk recovers.
    private static func isTransient(_ error: SegmentError) -> Bool {
        [ENOSPC, EDQUOT, EIO, ENOMEM, EAGAIN].contains(error.errno)
    }

    /// Logs a fault answered `busy`, at most once a second, so a full disk does not flood the log.
    private func logFault(_ message: String) {
        let now = clock()
        guard isDue(since: faultLoggedAtMs, nowMs: now, intervalMs: 1_000) else { return }
        faultLoggedAtMs = now
        logger.warning("answered 503 busy: \(message)")
    }

    /// The segment's file was truncated during the request: its answer may rest on zeros.
    static let segmentFaulted = HTTPError.fixed(
        .busy, "the stock gate is being rebuilt; retry in a second", headers: [.retryAfter: "1"])

    /// Who was admitted to which window, for every process of the host (the segment's leases).
    var admissions: any AdmissionLedger {
        SegmentAdmissionLedger(leases: desk.segment.spentChallenges, keys: tableKeys, windows: windows)
    }

    var store: SaleStore { desk.store }

    /// The questions of `sale`'s question captcha (read from SQLite once per process).
    func questions(of sale: Sale) throws -> [SaleQuestion] {
        let key = "\(sale.id)@\(sale.createdAt)"
        if let known = questionsBySale[key] { return known }
        let questions = try store.questions(ofSale: sale.id)
        questionsBySale[key] = questions
        return questions
    }

    /// The stock segment as now mapped (it is opened again when its file is replaced or truncated).
    var segment: StockSegment { desk.segment }

    /// The sale with `id` from the cache (the database is read at most once a second on a miss).
    func sale(id: String, nowMs: Int64) throws -> Sale? {
        try catalog.sale(id: id, store: desk.store, nowMs: nowMs)
    }

    /// The sale whose order secret is `secret`.
    func sale(secret: String, nowMs: Int64) throws -> Sale? {
        try catalog.sale(secret: secret, store: desk.store, nowMs: nowMs)
    }

    /// The slot of `sale`, for a function that may read the database: configured from SQLite
    /// when it does not hold the sale (a rebuilt or corrupted segment), and reconciled when the
    /// last reconciliation is older than the interval, which returns units held by processes
    /// that died. A segment file deleted, replaced or truncated under the process (so that
    /// reading the slot faulted) is opened again first.
    func slot(for sale: Sale, nowMs: Int64) throws -> SaleSlot {
        let slot = desk.segment.slot(at: sale.slot)
        let configured = slot.configuration() == SaleDesk.configuration(of: sale)
        guard !configured || slot.claimReconciliation(nowMs: nowMs, intervalMs: settings.reconcileIntervalMs) else {
            return slot
        }
        if !desk.segment.isCurrent() {
            try reopen(nowMs: nowMs)
        }
        try desk.reconcile(sale.id, nowMs: nowMs)
        return desk.segment.slot(at: sale.slot)
    }

    /// Returns the unit of a failed order: after the database answered sold out, by reconciling
    /// (it has none left to give); otherwise by giving the taken unit back.
    func returnUnit(of sale: Sale, slot: SaleSlot, soldOutInDatabase: Bool, nowMs: Int64) {
        if soldOutInDatabase, (try? desk.reconcile(sale.id, nowMs: nowMs)) != nil { return }
        slot.giveBack()
    }

    /// The slot configured for sale `id`, from the segment (precheck reads no database): a map
    /// of sale keys to slots, rebuilt by a scan of the segment when a key is missing or points
    /// to a slot that no longer holds it, at most once a second. Every reconcile interval the
    /// segment file is checked and, if replaced, opened again; and the one process per interval
    /// that wins the slot's reconciliation claim reconciles it from SQLite, so that a stale
    /// sold-out flag is corrected even when the page, trusting precheck, asks nothing else.
    /// A segment that faulted while it was read (its file truncated) is opened again and read again.
    func segmentSlot(saleID id: String, nowMs: Int64) throws -> SaleSlot? {
        let slot = try findSegmentSlot(saleID: id, nowMs: nowMs)
        guard desk.segment.hasFaulted else { return slot }
        try reopen(nowMs: nowMs)
        return try findSegmentSlot(saleID: id, nowMs: nowMs)
    }

    private func findSegmentSlot(saleID id: String, nowMs: Int64) throws -> SaleSlot? {
        if isDue(since: segmentCheckedAtMs, nowMs: nowMs, intervalMs: settings.reconcileIntervalMs) {
            segmentCheckedAtMs = nowMs
            if !desk.segment.isCurrent() { try reopen(nowMs: nowMs) }
        }
        let key = StockSegment.saleKey(id)
        var slot = slotIndexByKey[key].map { desk.segment.slot(at: $0) }
        if slot?.configuration()?.saleKey != key {
            guard isDue(since: slotsScannedAtMs, nowMs: nowMs, intervalMs: 1_000) else { return nil }
            rescan(nowMs: nowMs)
            slot = slotIndexByKey[key].map { desk.segment.slot(at: $0) }
        }
        guard let slot, slot.configuration()?.saleKey == key else { return nil }
        if slot.claimReconciliation(nowMs: nowMs, intervalMs: settings.reconcileIntervalMs) {
            _ = try? desk.reconcile(id, nowMs: nowMs)  // an id that only shares the key is no sale: nothing to do
        }
        return slot
    }

    private func rescan(nowMs: Int64) {
        var map: [UInt64: Int] = [:]
        for index in 0..<StockSegment.slotCount {
            if let key = desk.segment.slot(at: index).configuration()?.saleKey { map[key] = index }
        }
        slotIndexByKey = map
        slotsScannedAtMs = nowMs
    }

    /// Opens the segment file again (and the database with it); the new desk reconciles every
    /// sale whose slot is not configured, so a rebuilt segment starts from SQLite.
    private func reopen(nowMs: Int64) throws {
        desk = try Self.openDesk(data, settings: settings, nowMs: nowMs)
        slotsScannedAtMs = nil
    }

    private static func openDesk(_ data: DataDirectory, settings: BuyingSettings, nowMs: Int64) throws -> SaleDesk {
        try SaleDesk(
            databasePath: data.database, segmentPath: data.segment, nowMs: nowMs, synchronous: settings.synchronous)
    }
}

extension BuyingContext {
    /// The context of a function process, from the settings in its environment.
    public static func fromEnvironment() throws -> BuyingContext {
        try BuyingContext(settings: BuyingSettings(environment: ProcessInfo.processInfo.environment))
    }
}
