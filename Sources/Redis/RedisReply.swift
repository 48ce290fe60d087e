/// A Redis reply, copied out of hiredis' `redisReply` tree into Swift values.
///
/// An error reply is not a case: `RedisConnection` throws it as a `RedisError` of kind `.server`.
public indirect enum RedisReply: Sendable, Equatable {
    /// A bulk string: binary-safe bytes.
    case string([UInt8])
    /// A status reply such as `OK` or `QUEUED`.
    case status(String)
    case integer(Int64)
    case array([RedisReply])
    /// A missing value: a nil bulk string or a nil array.
    case null

    /// A bulk string as UTF-8 (invalid bytes repaired), or a status; nil otherwise.
    public var text: String? {
        switch self {
        case .string(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let status): status
        default: nil
        }
    }

    /// The integer, or nil for any other reply.
    public var integer: Int64? {
        if case .integer(let value) = self { value } else { nil }
    }

    /// The elements, or nil for any other reply.
    public var array: [RedisReply]? {
        if case .array(let elements) = self { elements } else { nil }
    }
}
