/// A Lua script, run by its SHA-1 (EVALSHA) so its source crosses the network once per server.
///
/// The SHA-1 is learned from the server: `RedisConnection.load(_:)` answers it (SCRIPT LOAD)
/// and the connection keeps it. This target links no hash library (it may not depend on
/// swift-crypto), and the server's hash is by definition the one EVALSHA accepts.
public struct RedisScript: Sendable, Hashable {
    public let source: String

    public init(_ source: String) {
        self.source = source
    }
}
