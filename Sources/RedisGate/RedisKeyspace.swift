/// How the gate's tables name and expire their keys in Redis.
enum RedisKeyspace {
    /// Every key of the gate starts with this prefix (a hash tag, should the keys ever need to
    /// share a Redis Cluster slot; each script touches one key today).
    static let hashTag = "{flashsale}"

    /// How much longer than its content's life Redis keeps a key: the tables decide by the
    /// callers' clocks, which may run ahead of Redis's, and Redis's expiry only drops keys that
    /// are dead by every clock.
    static let expirySlackMs: Int64 = 60_000

    /// `{flashsale}:<table>:<key as 16 hex digits>`.
    static func key(_ key: UInt64, in table: String) -> String {
        "\(hashTag):\(table):\(hex(key))"
    }

    /// `value` as 16 lowercase hex digits.
    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
