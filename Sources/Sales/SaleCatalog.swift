import Basics

/// The fixed facts of every sale (id, slot, secret, stock, times), cached per process so that
/// finding a sale by id or by its order secret costs no database read. A miss reloads from
/// the store at most once per `reloadIntervalMs`, so a sale created after the process started is
/// found within that time and a flood of made-up ids or secrets reads the database rarely.
/// Only the fixed fields are used: `remaining` and `version` here are stale by design.
public final class SaleCatalog {
    private var byID: [String: Sale] = [:]
    private var bySecret: [String: Sale] = [:]
    private var loadedAtMs: Int64?
    private let reloadIntervalMs: Int64

    public init(reloadIntervalMs: Int64 = 1_000) {
        self.reloadIntervalMs = reloadIntervalMs
    }

    public func sale(id: String, store: any SaleStore, nowMs: Int64) throws(StoreError) -> Sale? {
        if let sale = byID[id] { return sale }
        try reloadIfDue(store, nowMs: nowMs)
        return byID[id]
    }

    public func sale(secret: String, store: any SaleStore, nowMs: Int64) throws(StoreError) -> Sale? {
        if let sale = bySecret[secret] { return sale }
        try reloadIfDue(store, nowMs: nowMs)
        return bySecret[secret]
    }

    private func reloadIfDue(_ store: any SaleStore, nowMs: Int64) throws(StoreError) {
        guard isDue(since: loadedAtMs, nowMs: nowMs, intervalMs: reloadIntervalMs) else { return }
        let sales = try store.sales()
        byID = Dictionary(uniqueKeysWithValues: sales.map { ($0.id, $0) })
        bySecret = Dictionary(sales.map { ($0.secret, $0) }, uniquingKeysWith: { first, _ in first })
        loadedAtMs = nowMs
    }
}
