import Redis
import Sales

/// Leases of keys in Redis, shared by every host: the segment's ``LeaseTable`` semantics, with
/// time read from the callers' clocks only.
///
/// A key's lease is the string `"<end ms> <token hex>"` at `{flashsale}:<name>:<key hex>`: the
/// lease's end by the clock of the caller that took it, and the holder's random token. A lease is
/// live while its end is ahead of the asker's now by at most ``maxLeaseMs`` and
/// ``RedisKeyspace/expirySlackMs``: the hosts' clocks differ a little, and an end further ahead
/// is a clock stepped far back, not a lease. Redis expires the string that slack after the
/// lease's end by its own clock, so that dead leases vanish; it decides nothing.
///
/// A lease's ``Lease/slot`` is the key's bit pattern (where the table holds it), so that
/// ``release(_:)`` can find it.
///
/// When Redis cannot be asked, an acquire is ``LeaseOutcome/unavailable``, a key counts as held
/// (fail closed), and a release is dropped (the lease expires).
public final class RedisLeaseTable: LeaseTable {
    public let maxLeaseMs: Int64
    /// Ends are kept in milliseconds: a lease ends exactly when it says.
    public var tickMs: Int64 { 1 }

    private let pool: RedisPool
    private let name: String

    /// A table of leases of at most `maxLeaseMs`, its keys under `{flashsale}:<name>:`.
    public init(pool: RedisPool, name: String, maxLeaseMs: Int64) {
        precondition(maxLeaseMs > 0, "the longest lease is positive")
        self.pool = pool
        self.name = name
        self.maxLeaseMs = maxLeaseMs
    }

    public func acquire(_ key: UInt64, nowMs: Int64, leaseMs: Int64) -> LeaseOutcome {
        precondition(leaseMs > 0 && leaseMs <= maxLeaseMs, "a lease lasts 1 ms to \(maxLeaseMs) ms")
        let token = UInt64.random(in: .min ... .max)
        let arguments = [
            String(nowMs), String(horizonMs), "\(nowMs + leaseMs) \(RedisKeyspace.hex(token))",
            String(leaseMs + RedisKeyspace.expirySlackMs),
        ]
        let reply = try? pool.withConnection { redis throws(RedisError) in
            try redis.evaluate(Self.acquireScript, keys: [redisKey(key)], arguments: arguments)
        }
        switch reply?.integer {
        case 1: return .acquired(Lease(slot: Int(truncatingIfNeeded: key), token: token))
        case 0: return .busy
        default: return .unavailable
        }
    }

    public func isHeld(_ key: UInt64, nowMs: Int64) -> Bool {
        let reply: RedisReply
        do {
            reply = try pool.withConnection { redis throws(RedisError) in try redis.command(["GET", redisKey(key)]) }
        } catch {
            return true
        }
        guard reply != .null else { return false }
        // A value this table did not write is read as held, as a failure is.
        guard let end = reply.text?.split(separator: " ").first.flatMap({ Int64($0) }) else { return true }
        let ahead = end - nowMs
        return ahead > 0 && ahead <= horizonMs
    }

    /// How far the hosts' clocks may differ for leases to hold across them.
    public static let clockSlackMs = RedisKeyspace.expirySlackMs

    /// The furthest ahead a live lease's end may be: the longest lease, and the clocks' slack.
    private var horizonMs: Int64 { maxLeaseMs + Self.clockSlackMs }

    public func release(_ lease: Lease) {
        let key = UInt64(truncatingIfNeeded: lease.slot)
        _ = try? pool.withConnection { redis throws(RedisError) in
            try redis.evaluate(Self.releaseScript, keys: [redisKey(key)], arguments: [RedisKeyspace.hex(lease.token)])
        }
    }

    private func redisKey(_ key: UInt64) -> String {
        RedisKeyspace.key(key, in: name)
    }

    /// Takes the lease at KEYS[1] unless a live one is held there: 1 when taken, 0 when busy.
    /// ARGV: the caller's now (ms), the furthest ahead a live lease ends (ms), the new lease's value
    /// (`"<end> <token>"`), and Redis's expiry of it (ms).
    static let acquireScript = RedisScript(
        """
        local held = redis.call('GET', KEYS[1])
        if held then
            local ahead = tonumber(string.match(held, '^(%-?%d+) ')) - tonumber(ARGV[1])
            if ahead > 0 and ahead <= tonumber(ARGV[2]) then
                return 0
            end
        end
        redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
        return 1
        """)

    /// Deletes the lease at KEYS[1] if it is still the one whose token is ARGV[1] (a late
    /// release of a lease that expired and was taken again leaves the new one alone): 1 when
    /// deleted, else 0.
    static let releaseScript = RedisScript(
        """
        local held = redis.call('GET', KEYS[1])
        if held and string.match(held, ' (%x+)$') == ARGV[1] then
            return redis.call('DEL', KEYS[1])
        end
        return 0
        """)
}
