import CHiredis

extension RedisReply {
    /// Copies hiredis' reply tree, which the caller still owns and frees. An error reply, at the
    /// top or inside an array (a transaction's), throws it.
    init(copying reply: UnsafePointer<redisReply>, command: String) throws(RedisError) {
        let node = reply.pointee
        switch node.type {
        case REDIS_REPLY_STRING: self = .string(Self.bytes(node))
        case REDIS_REPLY_STATUS: self = .status(String(decoding: Self.bytes(node), as: UTF8.self))
        case REDIS_REPLY_INTEGER: self = .integer(Int64(node.integer))
        case REDIS_REPLY_NIL: self = .null
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(node.elements)
            for index in 0..<node.elements {
                // hiredis fills every slot of an array it hands back.
                guard let element = node.element[index] else { throw Self.malformed("an empty array slot", command) }
                elements.append(try RedisReply(copying: element, command: command))
            }
            self = .array(elements)
        case REDIS_REPLY_ERROR:
            throw RedisError(serverReply: String(decoding: Self.bytes(node), as: UTF8.self), command: command)
        default: throw Self.malformed("reply type \(node.type)", command)
        }
    }

    /// The `len` bytes at `str` (a bulk string's, a status's, an error's).
    private static func bytes(_ node: redisReply) -> [UInt8] {
        guard let start = node.str, node.len > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: start, count: node.len))
    }

    private static func malformed(_ what: String, _ command: String) -> RedisError {
        RedisError(kind: .protocol, message: "hiredis returned \(what)", command: command)
    }
}
