import Redis
import Synchronization

/// Connections to one Redis server for many threads: a call takes an idle connection, or opens
/// one when none is idle, and puts it back when it is done. A connection that failed goes back
/// too: it reconnects by itself on its next command.
public final class RedisPool: Sendable {
    /// The most idle connections kept; more, opened while many threads called at once, are closed.
    public static let maxIdle = 32

    private let url: String
    private let connectTimeoutMs: Int
    private let commandTimeoutMs: Int
    private let idle: Mutex<[IdleConnection]>

    /// Opens one connection to `url` (`redis://[[user]:password@]host[:port][/db]`) at once, so
    /// that a wrong URL or an unreachable server fails here rather than on the first request.
    public init(url: String, connectTimeoutMs: Int = 1_000, commandTimeoutMs: Int = 1_000) throws(RedisError) {
        let first = try RedisConnection(
            url: url, connectTimeoutMs: connectTimeoutMs, commandTimeoutMs: commandTimeoutMs)
        self.url = url
        self.connectTimeoutMs = connectTimeoutMs
        self.commandTimeoutMs = commandTimeoutMs
        idle = Mutex([IdleConnection(connection: first)])
    }

    /// Runs `body` on a connection that no other thread uses meanwhile.
    public func withConnection<T>(_ body: (RedisConnection) throws(RedisError) -> T) throws(RedisError) -> T {
        let connection: RedisConnection
        if let taken = idle.withLock({ $0.popLast() }) {
            connection = taken.connection
        } else {
            connection = try RedisConnection(
                url: url, connectTimeoutMs: connectTimeoutMs, commandTimeoutMs: commandTimeoutMs)
        }
        defer {
            let returned = IdleConnection(connection: connection)
            idle.withLock { connections in
                if connections.count < Self.maxIdle { connections.append(returned) }
            }
        }
        return try body(connection)
    }
}

/// A connection while it sits in the pool. Unchecked: no thread uses it there, and the one
/// thread that takes it out is its only user until it puts it back.
private struct IdleConnection: @unchecked Sendable {
    let connection: RedisConnection
}
