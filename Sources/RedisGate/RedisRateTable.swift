import Redis
import Sales

/// Request rates per key in Redis, shared by every host: the segment's ``RateTable`` (the
/// generic cell rate algorithm of `AddressRates`, with a block that grows while a key keeps
/// sending) run as one script, with time read from the callers' clocks only.
///
/// A key's theoretical arrival time (TAT), in microseconds by the callers' clocks, is the string
/// at `{flashsale}:<name>:<key hex>`. Redis expires it ``RedisKeyspace/expirySlackMs`` after the
/// TAT passes by its own clock: by then it counts for nothing, as a missing key. The table is
/// never full; when Redis cannot be asked, the verdict is ``RateVerdict/unavailable``.
public final class RedisRateTable: RateTable {
    public let maxPerSecond: Int

    private let pool: RedisPool
    private let name: String

    /// A table of rates up to `maxPerSecond` (at most 1,000,000, one request a microsecond), its
    /// keys under `{flashsale}:<name>:`.
    public init(pool: RedisPool, name: String, maxPerSecond: Int) {
        precondition((1...1_000_000).contains(maxPerSecond), "a table counts 1 to 1,000,000 requests a second")
        self.pool = pool
        self.name = name
        self.maxPerSecond = maxPerSecond
    }

    public func admit(_ key: UInt64, nowMs: Int64, perSecond: Int, maxBlockMs: Int64) -> RateVerdict {
        precondition((1...maxPerSecond).contains(perSecond), "a rate is 1 to \(maxPerSecond) requests a second")
        // Microseconds, as in the segment, so that every rate up to 1000 a second has its own interval.
        let interval = Int64(1_000_000 / perSecond)
        let tolerance = interval * Int64(perSecond - 1)
        let arguments = [
            String(max(0, nowMs) * 1000), String(interval), String(tolerance), String(tolerance + maxBlockMs * 1000),
            String(RedisKeyspace.expirySlackMs),
        ]
        let reply = try? pool.withConnection { redis throws(RedisError) in
            try redis.evaluate(Self.admitScript, keys: [RedisKeyspace.key(key, in: name)], arguments: arguments)
        }
        guard let verdict = reply?.array, verdict.count == 2, let allowed = verdict[0].integer,
            let excess = verdict[1].integer
        else { return .unavailable }
        return allowed == 1 ? .allowed : .limited(retryAfterMs: max(1, (excess + 999) / 1000))
    }

    /// Counts one request against the TAT at KEYS[1] (absent: now). Allowed while the TAT is at
    /// most the tolerance ahead of now, and then moved one interval on; refused otherwise, and
    /// moved one interval on up to the longest block ahead. Answers `{1 if allowed else 0, how far
    /// the new TAT is beyond the tolerance (µs)}`.
    /// ARGV: now, interval, tolerance, tolerance plus the longest block (all µs), and the expiry
    /// slack (ms). Numbers stay below 2^53, so Lua's doubles hold them exactly.
    static let admitScript = RedisScript(
        """
        local now = tonumber(ARGV[1])
        local interval = tonumber(ARGV[2])
        local tolerance = tonumber(ARGV[3])
        local stored = redis.call('GET', KEYS[1])
        local ahead = 0
        if stored then
            ahead = math.max(tonumber(stored) - now, 0)
        end
        local allowed = ahead <= tolerance
        local nextAhead = ahead + interval
        if not allowed then
            nextAhead = math.min(nextAhead, tonumber(ARGV[4]))
        end
        local expiry = math.ceil(nextAhead / 1000) + tonumber(ARGV[5])
        redis.call('SET', KEYS[1], string.format('%.0f', now + nextAhead), 'PX', string.format('%.0f', expiry))
        return {allowed and 1 or 0, nextAhead - tolerance}
        """)
}
