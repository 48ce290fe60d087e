import Redis
import RedisGate
import Sales
import Segment
import Synchronization

/// The gate of a host whose sale runs on several hosts: the host's stock segment for the stock,
/// and Redis for what one request on one host must see of the others (an account's one request
/// at a time, spent challenges, passes, proofs of work and admissions, address rates).
final class SharedTablesGate: SaleGate {
    let segment: StockSegment
    let tables: SharedTables

    init(segment: StockSegment, tables: SharedTables) {
        self.segment = segment
        self.tables = tables
    }

    func stock(of sale: Sale) -> any SaleStock { segment.stock(of: sale) }
    var accounts: any LeaseTable { tables.accounts }
    var spent: any LeaseTable { tables.spent }
    var rates: any RateTable { tables.rates }
}

/// The tables of a Redis gate, one set per process, shared by its sessions: each table asks
/// Redis through the process's pool of connections, and keeps the segment's bounds. Their keys
/// carry the store's database id, so that two deployments (or two tests) sharing one Redis
/// never see each other's leases.
final class SharedTables: Sendable {
    let accounts: RedisLeaseTable
    let spent: RedisLeaseTable
    let rates: RedisRateTable

    init(pool: RedisPool, databaseID: UInt64) {
        let prefix = String(databaseID, radix: 16)
        accounts = RedisLeaseTable(pool: pool, name: "\(prefix):accounts", maxLeaseMs: GateLimits.longestAccountLeaseMs)
        spent = RedisLeaseTable(pool: pool, name: "\(prefix):spent", maxLeaseMs: StockSegment.longestSpentLeaseMs)
        rates = RedisRateTable(pool: pool, name: "\(prefix):rates", maxPerSecond: AddressRates.maxPerSecond)
    }
}

/// Makes a process's ``SharedTables`` once, for the database its sessions' store names, on
/// connections to the Redis at `url`.
final class SharedTablesSource: Sendable {
    private let url: String
    private let made = Mutex<SharedTables?>(nil)

    init(url: String) {
        self.url = url
    }

    /// The process's tables, over a pool that connects as calls need it.
    func tables(databaseID: UInt64) -> SharedTables {
        made.withLock { made in
            if let made { return made }
            let tables = SharedTables(pool: RedisPool(url: url), databaseID: databaseID)
            made = tables
            return tables
        }
    }
}
