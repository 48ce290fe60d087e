/// The gate: fast state shared by every process (and, with a shared backend, every host) that
/// answers almost every request without the store. It only ever copies the store's stock; what
/// it holds beyond that (leases, rates, spent challenges, counters) may be lost with it.
///
/// The embedded gate is the memory-mapped stock segment. A backend keeps every promise the
/// backend contract suite (Tests/BackendContractTests) states.
public protocol SaleGate: AnyObject, Sendable {
    /// The stock of `sale` in the gate, whatever terms it holds: ``SaleStock/terms()`` says
    /// whether they are the sale's.
    func stock(of sale: Sale) -> any SaleStock
    /// One lease per account: one request of an account at a time.
    var accounts: any LeaseTable { get }
    /// Single-use challenges, passes, proof-of-work solutions and admissions, each held until
    /// it expires.
    var spent: any LeaseTable { get }
    /// Request rates per client address (and network) and per account.
    var rates: any RateTable { get }
}

/// One sale's stock, state flag, admission windows and counters in the gate. Every method is
/// safe from any number of processes at once.
public protocol SaleStock: Sendable {
    /// The terms the gate holds for the sale, or nil when none are (yet) set or they cannot be
    /// read: then the stock figures below say nothing.
    func terms() -> StockTerms?
    /// Sets the terms and the remaining stock, as the store has them (the stock is rebuilt).
    func configure(_ terms: StockTerms, remaining: Int64, nowMs: Int64)
    /// Sets the remaining stock to the store's, giving back units held by processes that died.
    func reconcile(remaining: Int64, nowMs: Int64)
    /// Whether this process should reconcile now: true for one caller per `intervalMs`, and for
    /// a caller whose clock reads more than `intervalMs` before the last claim (a clock stepped
    /// back must not stop reconciling until it catches up).
    func claimReconciliation(nowMs: Int64, intervalMs: Int64) -> Bool
    /// When the stock was last reconciled from the store.
    var lastReconciledMs: Int64 { get }

    /// Units the gate holds; never below zero after a take.
    var remaining: Int64 { get }
    /// Whether a take found none left (cleared by a reconcile that finds stock).
    var isSoldOut: Bool { get }
    /// Takes one unit; false when none is left. Never takes below zero, whoever takes at once.
    func takeOne() -> Bool
    /// Gives back a unit taken for an order that failed.
    func giveBack()

    /// Admits one buyer to admission window `window` unless `limit` are admitted already.
    func admit(window: UInt32, limit: Int64) -> Bool
    /// Gives back an admission: the buyer ordered, or was not admitted after all.
    func releaseAdmission(window: UInt32)
    /// Buyers admitted in `window` so far.
    func admissions(inWindow window: UInt32) -> Int64

    /// Adds `amount` to `counter`.
    func add(_ counter: SaleCounter, _ amount: Int64)
    /// The value of `counter`.
    func count(_ counter: SaleCounter) -> Int64
}

extension SaleStock {
    /// Adds one to `counter`.
    public func increment(_ counter: SaleCounter) { add(counter, 1) }
}

/// Leases of keys (hashes of accounts, challenges and windows), each held until it is given
/// back or expires.
public protocol LeaseTable: Sendable {
    /// The longest lease the table holds.
    var maxLeaseMs: Int64 { get }
    /// How finely the table keeps time: a lease may end up to this much early.
    var tickMs: Int64 { get }
    /// Takes `key`'s lease for `leaseMs` (1 to ``maxLeaseMs``: callers clamp; a lease out of
    /// range is a programming error that stops the process), unless a live one is held.
    func acquire(_ key: UInt64, nowMs: Int64, leaseMs: Int64) -> LeaseOutcome
    /// Whether a live lease of `key` is held at `nowMs`.
    func isHeld(_ key: UInt64, nowMs: Int64) -> Bool
    /// Gives `lease` back before it expires; a lease expired and taken by another is left alone.
    func release(_ lease: Lease)
}

/// A lease held: give it back with ``LeaseTable/release(_:)``.
public struct Lease: Sendable, Equatable {
    /// Where the table holds it.
    public let slot: Int
    /// What the table holds there while it is this lease.
    public let token: UInt64

    public init(slot: Int, token: UInt64) {
        self.slot = slot
        self.token = token
    }
}

/// What taking a lease found.
public enum LeaseOutcome: Sendable, Equatable {
    case acquired(Lease)
    /// Another request holds the key's lease.
    case busy
    /// Other claims (of other keys, or of this key at the same instant) took every place this
    /// one chose, a few times over: nothing is held; a retry gets in.
    case contended
    /// The table has no room for the key: the request goes ahead unguarded rather than locking
    /// anyone out (the store's one order per account still holds).
    case tableFull
    /// The table could not be asked (a shared gate's server unreachable): nothing is held, and
    /// the request is refused `busy` rather than let through unguarded.
    case unavailable
}

/// Requests per key and second, counted as a generic cell rate with a block that grows while
/// the key keeps sending.
public protocol RateTable: Sendable {
    /// The highest rate the table counts, in requests a second.
    var maxPerSecond: Int { get }
    /// Counts one request of `key` at `nowMs` against `perSecond` (1 to ``maxPerSecond``: callers
    /// clamp; a rate out of range is a programming error that stops the process).
    func admit(_ key: UInt64, nowMs: Int64, perSecond: Int, maxBlockMs: Int64) -> RateVerdict
}

/// What a rate table decided.
public enum RateVerdict: Sendable, Equatable {
    case allowed
    /// Over the rate: ask again after this many milliseconds.
    case limited(retryAfterMs: Int64)
    /// The table has no room for the key: the request goes ahead rather than locking anyone out.
    case tableFull
    /// The table could not be asked (a shared gate's server unreachable): refused `busy`.
    case unavailable
}
