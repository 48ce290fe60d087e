import Backends
import Basics
import Challenges
import FastCGI
import Foundation
import Identity
import Sales

/// What the buying functions share in one process: the settings, the keys they sign and check
/// with, the admission windows, the clock and the backend. Each request builds its own
/// ``SaleRequest`` from it, inside ``inSession(_:)``.
public final class BuyingContext: Sendable {
    /// What the process was started with.
    public let settings: BuyingSettings
    let identity: IdentityReader
    let orderTokens: TokenSigner
    /// Digests of captcha answers, under the same secret as the order tokens.
    let answers: AnswerDigest
    /// Proof-of-work nonces, under the same secret.
    let work: ProofOfWork
    /// Where accounts, addresses and spent challenges land in the gate's tables.
    let tableKeys: TableKeys
    /// The sales' admission windows, one token lifetime long each, their boundaries jittered.
    let windows: AdmissionWindows
    let clock: @Sendable () -> Int64
    let busyGate: BusyGate
    /// The store and the gate, as this process holds them.
    let backend: any SaleBackend

    /// A context over `backend`, opened once the data directory's keys are read (a process with
    /// an unreadable key fails before it touches the backend).
    public init(
        settings: BuyingSettings, data: DataDirectory, backend: @autoclosure () throws -> any SaleBackend,
        clock: @escaping @Sendable () -> Int64 = wallClockMilliseconds
    ) throws {
        self.settings = settings
        self.clock = clock
        identity = IdentityReader(signer: TokenSigner(secret: try data.keyBytes(data.identityKey)))
        let secret = try data.keyBytes(data.secretKey)
        orderTokens = TokenSigner(secret: secret)
        answers = AnswerDigest(secret: secret)
        work = ProofOfWork(secret: secret)
        tableKeys = TableKeys(secret: secret)
        windows = AdmissionWindows(secret: secret, lengthMs: settings.tokenLifetimeMs)
        busyGate = BusyGate(
            queueLimit: Int(settings.orderQueueLimit), maxRefusalsInARow: Int(settings.orderRefusalsInARow))
        self.backend = try backend()
    }

    /// A context over the data directory's backend (its stock segment, and the store its
    /// backend settings name: its SQLite database or PostgreSQL), which reconciles every sale
    /// that has not ended as it opens: a process started in place of one killed mid-order
    /// returns the unit it held.
    public convenience init(settings: BuyingSettings, clock: @escaping @Sendable () -> Int64 = wallClockMilliseconds)
        throws
    {
        let data = DataDirectory(path: settings.dataDirectory)
        try data.checkUsable()
        let backend = try data.backendSettings()
        let options = EmbeddedBackend.Options(
            reconcileIntervalMs: settings.reconcileIntervalMs, synchronous: settings.synchronous,
            commitQueue: Int(settings.commitQueue), commitWaitMs: settings.commitWaitMs, pauseAt: settings.pauseAt,
            store: StoreAddress(backend), gate: GateAddress(backend))
        try self.init(
            settings: settings, data: data, backend: try EmbeddedBackend(data: data, options: options, clock: clock),
            clock: clock)
    }

    /// Runs one request's reads and writes of the backend in a session of its own
    /// (``SaleBackend/inSession(_:)``). Any answer decided while the gate's memory faulted is
    /// 503 `busy` (``Refusal/gateRebuilding``): the backend turns refusals so, and this the
    /// runtime's own errors (an identity or a body refused after the gate was read).
    func inSession<T: Sendable>(_ body: (any BackendSession) throws -> T) throws -> T {
        try backend.inSession { session in
            do {
                return try body(session)
            } catch is HTTPError where session.hasFaulted {
                throw Refusal.gateRebuilding
            }
        }
    }
}

extension BuyingContext {
    /// The context of a function process, from the settings in its environment.
    public static func fromEnvironment() throws -> BuyingContext {
        try BuyingContext(settings: BuyingSettings(environment: ProcessInfo.processInfo.environment))
    }
}
