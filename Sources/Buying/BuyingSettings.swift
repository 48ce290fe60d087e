import Basics
import Foundation
import Sales

/// The settings of the buying functions, from their environment (a manifest's `environment`
/// or the web server's): every value has a default, and a bad value stops the function at start.
public struct BuyingSettings: Sendable, Equatable {
    /// The data directory (`FLASHSALE_DATA`, which `flashsale serve` sets).
    public var dataDirectory: String
    /// How long an order token lasts, and the mean length of an admission window, whose
    /// boundaries move by up to a quarter of it (`FLASHSALE_TOKEN_TTL_SECONDS`, default 30).
    public var tokenLifetimeMs: Int64
    /// Per admission window, a sale hands out at most this many tokens per unit it has left
    /// (`FLASHSALE_ADMISSION_MULTIPLE`, default 10): the article's "submitted orders ≤ stock".
    public var admissionMultiple: Int64
    /// How often a sale's stock in the gate is reconciled from the store while buyers ask for it
    /// (`FLASHSALE_RECONCILE_INTERVAL_MS`, default 2000).
    public var reconcileIntervalMs: Int64
    /// How order commits reach the disk (`FLASHSALE_SYNCHRONOUS`, `FULL` by default).
    public var synchronous: Durability
    /// An order process refuses with `busy` when more requests than this wait behind the one in
    /// hand (`FLASHSALE_ORDER_QUEUE_LIMIT`, default 64)…
    public var orderQueueLimit: Int64
    /// …but never more than this many in a row (`FLASHSALE_ORDER_REFUSALS_IN_A_ROW`, default 4).
    public var orderRefusalsInARow: Int64
    /// How long an account's lease on its one active request lasts at most, so a process that
    /// dies holding it locks the account out no longer (`FLASHSALE_ACCOUNT_LEASE_MS`, default 10000).
    public var accountLeaseMs: Int64
    /// The longest an address that keeps asking over its sale's rate is blocked
    /// (`FLASHSALE_RATE_BLOCK_SECONDS`, default 60).
    public var rateBlockMs: Int64
    /// How many won orders may wait to be committed at once, every order process together
    /// (`FLASHSALE_COMMIT_QUEUE`, default 256, at most 1024): one more is refused `busy` at once.
    public var commitQueue: Int64
    /// How long a won order waits to be committed before its buyer is answered `busy`
    /// (`FLASHSALE_COMMIT_WAIT_MS`, default 3000, at most 5000: well inside the commit lease,
    /// so no buyer still waits when a stalled leader's lease is taken over).
    public var commitWaitMs: Int64
    /// A fault drill: the process that commits a group stops itself (SIGSTOP) at this point,
    /// for a test to kill it there (`FLASHSALE_PAUSE_AT`: `before-transaction`,
    /// `in-transaction`, `after-commit` or `after-sync`; default none). Never set on a sale day.
    public var pauseAt: CommitPoint?
    /// The proxies whose `X-Forwarded-For` is believed (`FLASHSALE_TRUSTED_PROXIES`, addresses
    /// separated by commas; default none: the client address is the one lighttpd reports).
    public var trustedProxies: Set<String>

    public init(
        dataDirectory: String, tokenLifetimeMs: Int64 = 30_000, admissionMultiple: Int64 = 10,
        reconcileIntervalMs: Int64 = 2_000, synchronous: Durability = .full, orderQueueLimit: Int64 = 64,
        orderRefusalsInARow: Int64 = 4, accountLeaseMs: Int64 = 10_000, rateBlockMs: Int64 = 60_000,
        trustedProxies: Set<String> = [], commitQueue: Int64 = 256, commitWaitMs: Int64 = 3_000,
        pauseAt: CommitPoint? = nil
    ) {
        self.commitQueue = commitQueue
        self.commitWaitMs = commitWaitMs
        self.pauseAt = pauseAt
        self.dataDirectory = dataDirectory
        self.tokenLifetimeMs = tokenLifetimeMs
        self.admissionMultiple = admissionMultiple
        self.reconcileIntervalMs = reconcileIntervalMs
        self.synchronous = synchronous
        self.orderQueueLimit = orderQueueLimit
        self.orderRefusalsInARow = orderRefusalsInARow
        self.accountLeaseMs = accountLeaseMs
        self.rateBlockMs = rateBlockMs
        self.trustedProxies = trustedProxies
    }

    /// The longest account lease an operator may set: the most the accounts table holds.
    static let maxAccountLeaseMs = GateLimits.longestAccountLeaseMs

    /// Reads the settings from `environment`; throws the first value an operator must fix.
    public init(environment: [String: String]) throws(SettingError) {
        guard let data = environment["FLASHSALE_DATA"], !data.isEmpty else {
            throw SettingError("FLASHSALE_DATA is not set: start the functions with `flashsale serve`")
        }
        self.init(dataDirectory: data)
        if let seconds = try Self.integer(environment, "FLASHSALE_TOKEN_TTL_SECONDS", in: 1...3_600) {
            tokenLifetimeMs = seconds * 1000
        }
        admissionMultiple =
            try Self.integer(environment, "FLASHSALE_ADMISSION_MULTIPLE", in: 1...1_000_000)
            ?? admissionMultiple
        reconcileIntervalMs =
            try Self.integer(environment, "FLASHSALE_RECONCILE_INTERVAL_MS", in: 10...3_600_000)
            ?? reconcileIntervalMs
        orderQueueLimit =
            try Self.integer(environment, "FLASHSALE_ORDER_QUEUE_LIMIT", in: 0...1_000_000) ?? orderQueueLimit
        orderRefusalsInARow =
            try Self.integer(environment, "FLASHSALE_ORDER_REFUSALS_IN_A_ROW", in: 0...1_000_000)
            ?? orderRefusalsInARow
        accountLeaseMs =
            try Self.integer(environment, "FLASHSALE_ACCOUNT_LEASE_MS", in: 1_000...Self.maxAccountLeaseMs)
            ?? accountLeaseMs
        if let seconds = try Self.integer(environment, "FLASHSALE_RATE_BLOCK_SECONDS", in: 1...3_600) {
            rateBlockMs = seconds * 1000
        }
        if let raw = environment["FLASHSALE_TRUSTED_PROXIES"] {
            let addresses = raw.split(separator: ",", omittingEmptySubsequences: false)
            let normalised = addresses.map { ClientAddress.normalised($0.trimmingCharacters(in: .whitespaces)) }
            guard !normalised.contains(nil) else {
                throw SettingError(
                    "FLASHSALE_TRUSTED_PROXIES=\(raw) must be IPv4 or IPv6 addresses separated by commas")
            }
            trustedProxies = Set(normalised.compactMap { $0 })
        }
        commitQueue =
            try Self.integer(environment, "FLASHSALE_COMMIT_QUEUE", in: 1...Int64(GateLimits.largestCommitQueue))
            ?? commitQueue
        commitWaitMs = try Self.integer(environment, "FLASHSALE_COMMIT_WAIT_MS", in: 10...5_000) ?? commitWaitMs
        if let raw = environment["FLASHSALE_PAUSE_AT"] {
            guard let point = CommitPoint(rawValue: raw) else {
                throw SettingError(
                    "FLASHSALE_PAUSE_AT=\(raw) must be one of "
                        + CommitPoint.allCases.map(\.rawValue).joined(separator: ", "))
            }
            pauseAt = point
        }
        if let raw = environment["FLASHSALE_SYNCHRONOUS"] {
            guard let value = Durability(rawValue: raw.uppercased()) else {
                throw SettingError("FLASHSALE_SYNCHRONOUS=\(raw) must be FULL or NORMAL")
            }
            synchronous = value
        }
    }

    private static func integer(
        _ environment: [String: String], _ name: String, in range: ClosedRange<Int64>
    ) throws(SettingError) -> Int64? {
        guard let raw = environment[name] else { return nil }
        guard let value = Int64(raw), range.contains(value) else {
            throw SettingError("\(name)=\(raw) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }
}
