import Foundation
import Redis

/// A connection for a test. The process first ignores SIGPIPE, as the functions do: hiredis
/// writes with write(2), and these tests write to servers they kill.
func connect(_ url: String, commandTimeoutMs: Int = 2_000) throws(RedisError) -> RedisConnection {
    _ = ignoringSIGPIPE
    return try RedisConnection(url: url, commandTimeoutMs: commandTimeoutMs)
}

private let ignoringSIGPIPE: Void = {
    signal(SIGPIPE, SIG_IGN)
}()

/// A key no other test uses, for tests that share a server.
func uniqueKey(_ name: String) -> String {
    "redis-tests:\(UUID().uuidString):\(name)"
}

extension RedisReply {
    /// A bulk string of `text`'s UTF-8 bytes.
    static func string(_ text: String) -> RedisReply { .string(Array(text.utf8)) }
}
