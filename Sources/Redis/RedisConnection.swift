import CHiredis
import Foundation

/// One blocking connection to a Redis server, the only owner of its hiredis context.
///
/// A call that fails on the connection (I/O, end of file, timeout, protocol) leaves the
/// context unusable: the next call reconnects first, with the same timeouts, password and
/// database, and throws a transient `.connect` error if it cannot. A call that failed in flight
/// is never retried here: the command may have run.
///
/// hiredis 0.14 sends with write(2): a write to a connection the server has reset raises
/// SIGPIPE, which the process must ignore (as `FastCGIServer` does).
public final class RedisConnection {
    // The hiredis context: made in init, reconnected in place, freed in deinit; used only here.
    private let context: UnsafeMutablePointer<redisContext>
    private let endpoint: RedisEndpoint
    private let commandTimeout: timeval
    /// True once the socket in hand is connected, with timeouts, keepalive, AUTH and SELECT
    /// done; false after any call that failed on the connection.
    private var sessionIsOpen = false
    /// The SHA-1 of each script loaded, from SCRIPT LOAD.
    var scriptHashes: [RedisScript: String] = [:]

    /// Connects to `url`, `redis://[[user]:password@]host[:port][/db]`, then sends AUTH and
    /// SELECT as it says. `commandTimeoutMs` bounds each read and write of a command, 0 for none.
    public init(url: String, connectTimeoutMs: Int = 2_000, commandTimeoutMs: Int = 2_000) throws(RedisError) {
        precondition(connectTimeoutMs > 0 && commandTimeoutMs >= 0, "Redis timeouts must be positive")
        endpoint = try RedisEndpoint(url: url)
        commandTimeout = timeval(milliseconds: commandTimeoutMs)
        let made = redisConnectWithTimeout(endpoint.host, Int32(endpoint.port), timeval(milliseconds: connectTimeoutMs))
        guard let made else { throw RedisError(kind: .other, message: "hiredis could not allocate a context") }
        context = made
        try openSession(connectErrno: Glibc.errno)
    }

    deinit {
        redisFree(context)
    }

    /// Marks a connection that sat idle for a new session when the server closed it meanwhile
    /// (a restart, a failover, its idle timeout): it then has an end of file, or bytes no command
    /// asked for, to read. The next command reconnects first rather than fail for nothing.
    public func dropIfClosedWhileIdle() {
        guard sessionIsOpen else { return }
        var descriptor = pollfd(fd: context.pointee.fd, events: Int16(POLLIN), revents: 0)
        if poll(&descriptor, 1, 0) != 0 { sessionIsOpen = false }
    }

    /// Runs one command; the reply copied out of hiredis. An error reply throws `.server`.
    public func command(_ arguments: [String]) throws(RedisError) -> RedisReply {
        try command(arguments.map { Array($0.utf8) })
    }

    /// Runs one command whose arguments are bytes, binary-safe.
    public func command(_ arguments: [[UInt8]]) throws(RedisError) -> RedisReply {
        if !sessionIsOpen {
            // A failure, if any, is in context.err, which openSession checks first.
            _ = chiredis_reconnect(context)
            let connectErrno = Glibc.errno
            try openSession(connectErrno: connectErrno)
        }
        return try send(arguments)
    }

    /// Prepares the socket in hand, freshly connected or not (`context.err`), for commands.
    private func openSession(connectErrno: Int32) throws(RedisError) {
        guard context.pointee.err == 0 else { throw connectFailure(errno: connectErrno) }
        guard redisSetTimeout(context, commandTimeout) == REDIS_OK, redisEnableKeepAlive(context) == REDIS_OK else {
            throw connectFailure(errno: Glibc.errno)
        }
        if let authentication = endpoint.authentication {
            _ = try send(authentication.map { Array($0.utf8) })
        }
        if let database = endpoint.database {
            _ = try send([Array("SELECT".utf8), Array(String(database).utf8)])
        }
        sessionIsOpen = true
    }

    /// Sends one command on the socket in hand and copies its reply; frees hiredis' reply.
    private func send(_ arguments: [[UInt8]]) throws(RedisError) -> RedisReply {
        guard let first = arguments.first else { throw RedisError(kind: .other, message: "empty command") }
        let name = String(decoding: first, as: UTF8.self).uppercased()
        // All arguments in one buffer, with a byte to spare so it has an address even when empty.
        let bytes = Array(arguments.joined()) + [0]
        let lengths = arguments.map(\.count)
        let (reply, callErrno) = bytes.withUnsafeBufferPointer { buffer in
            // Pointers into `buffer`, which outlives the call; hiredis copies what it sends.
            let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            var starts: [UnsafePointer<CChar>?] = []
            var offset = 0
            for length in lengths {
                starts.append(base + offset)
                offset += length
            }
            let reply = chiredis_command(context, Int32(arguments.count), &starts, lengths)
            return (reply, Glibc.errno)
        }
        guard let reply else {
            sessionIsOpen = false
            throw callFailure(errno: callErrno, command: name)
        }
        defer { freeReplyObject(reply) }
        return try RedisReply(copying: reply, command: name)
    }

    /// The error hiredis recorded in the context for a command that got no reply.
    private func callFailure(errno callErrno: Int32, command: String?) -> RedisError {
        let text = String(cString: chiredis_errstr(context))
        switch context.pointee.err {
        case REDIS_ERR_IO where callErrno == EAGAIN || callErrno == EWOULDBLOCK:
            let limit = Int(commandTimeout.tv_sec) * 1000 + Int(commandTimeout.tv_usec) / 1000
            return RedisError(
                kind: .timeout, message: "no answer within \(limit) ms (\(text))", errno: callErrno, command: command)
        case REDIS_ERR_IO: return RedisError(kind: .io, message: text, errno: callErrno, command: command)
        case REDIS_ERR_EOF: return RedisError(kind: .eof, message: text, command: command)
        case REDIS_ERR_PROTOCOL: return RedisError(kind: .protocol, message: text, command: command)
        default: return RedisError(kind: .other, message: text.isEmpty ? "no reply" : text, command: command)
        }
    }

    /// The error of a connection that could not be made or prepared, naming host and port.
    private func connectFailure(errno connectErrno: Int32) -> RedisError {
        RedisError(
            kind: .connect, message: "connecting to \(endpoint.address): \(String(cString: chiredis_errstr(context)))",
            errno: context.pointee.err == REDIS_ERR_IO ? connectErrno : nil)
    }
}

@available(*, unavailable, message: "one session uses a connection at a time")
extension RedisConnection: Sendable {}

extension timeval {
    init(milliseconds: Int) {
        self.init(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
    }
}
