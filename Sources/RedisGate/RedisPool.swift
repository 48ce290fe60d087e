import Basics
import Redis
import Synchronization

/// Connections to one Redis server for many threads: a call takes an idle connection, or opens
/// one when none is idle, and puts it back when it is done. A connection that failed goes back
/// too: it reconnects by itself on its next command; one the server closed while it sat idle
/// reconnects before it is used. Nothing connects before the first call, so a process starts
/// while Redis is down and answers `busy` meanwhile.
public final class RedisPool: Sendable {
    /// The most idle connections kept; more, opened while many threads called at once, are closed.
    public static let maxIdle = 32
    /// After a call could not connect to the server (refused, or no answer to the connect),
    /// calls fail at once for this long rather than each wait for the connect timeout again. A
    /// command that timed out on a connection pauses nothing: one slow answer of a busy server
    /// must not refuse a second's requests.
    public static let pauseMs: Int64 = 1_000

    private let url: String
    private let connectTimeoutMs: Int
    private let commandTimeoutMs: Int
    private let idle = Mutex<[IdleConnection]>([])
    /// When a call last failed to reach the server (monotonic ms), if it did.
    private let unreachableAtMs = Mutex<Int64?>(nil)

    /// Connections to `url` (`redis://[[user]:password@]host[:port][/db]`), made as calls need them.
    public init(url: String, connectTimeoutMs: Int = 1_000, commandTimeoutMs: Int = 1_000) {
        self.url = url
        self.connectTimeoutMs = connectTimeoutMs
        self.commandTimeoutMs = commandTimeoutMs
    }

    /// Throws why the server cannot be used now (a wrong URL, a refused connection, a wrong
    /// password), if it cannot.
    public func check() throws(RedisError) {
        _ = try withConnection { redis throws(RedisError) in try redis.command(["PING"]) }
    }

    /// Runs `body` on a connection that no other thread uses meanwhile.
    public func withConnection<T>(_ body: (RedisConnection) throws(RedisError) -> T) throws(RedisError) -> T {
        if let failed = unreachableAtMs.withLock({ $0 }), monotonicMilliseconds() - failed < Self.pauseMs {
            throw RedisError(kind: .connect, message: "Redis could not be reached a moment ago; not trying again yet")
        }
        let connection: RedisConnection
        do {
            if let taken = idle.withLock({ $0.popLast() }) {
                connection = taken.connection
                connection.dropIfClosedWhileIdle()
            } else {
                connection = try RedisConnection(
                    url: url, connectTimeoutMs: connectTimeoutMs, commandTimeoutMs: commandTimeoutMs)
            }
        } catch {
            noteFailure(error)
            throw error
        }
        defer {
            let returned = IdleConnection(connection: connection)
            idle.withLock { connections in
                if connections.count < Self.maxIdle { connections.append(returned) }
            }
        }
        do {
            return try body(connection)
        } catch {
            noteFailure(error)
            throw error
        }
    }

    /// Starts the pause after a failure to connect to the server.
    private func noteFailure(_ error: RedisError) {
        guard error.kind == .connect else { return }
        let now = monotonicMilliseconds()
        unreachableAtMs.withLock { $0 = now }
    }
}

/// A connection while it sits in the pool. Unchecked: no thread uses it there, and the one
/// thread that takes it out is its only user until it puts it back.
private struct IdleConnection: @unchecked Sendable {
    let connection: RedisConnection
}
