/// A failed Redis call with the C facts: what failed (`kind`), the server's error code and
/// message or hiredis' `errstr`, the errno of a failed socket call, and the command's name —
/// never its arguments, which may hold secrets.
public struct RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// A socket call failed (hiredis REDIS_ERR_IO).
        case io
        /// The server closed the connection (REDIS_ERR_EOF).
        case eof
        /// No answer within the command timeout: a read or write failed with EAGAIN.
        case timeout
        /// The server's bytes were not RESP (REDIS_ERR_PROTOCOL), or not the reply expected.
        case `protocol`
        /// The server answered with an error reply.
        case server
        /// No connection could be made or prepared (connect, keepalive, timeouts).
        case connect
        /// Anything else: a bad URL, hiredis out of memory.
        case other
    }

    public var kind: Kind
    /// The error reply's code (`NOSCRIPT`, `WRONGTYPE`, `ERR`): its first word when in capitals.
    public var code: String?
    /// The server's message after the code, or hiredis' `errstr`.
    public var message: String
    /// The errno of the failed socket call, for `.io`, `.timeout` and `.connect`.
    public var errno: Int32?
    /// The command's name (`EVALSHA`), nil for a connection that could not be made.
    public var command: String?

    public init(kind: Kind, code: String? = nil, message: String, errno: Int32? = nil, command: String? = nil) {
        self.kind = kind
        self.code = code
        self.message = message
        self.errno = errno
        self.command = command
    }

    /// Splits an error reply into its code and message: `READONLY You can't write…`.
    init(serverReply: String, command: String?) {
        let word = serverReply.prefix { $0 != " " }
        let isCode = !word.isEmpty && word.allSatisfy { $0.isUppercase || $0.isNumber || $0 == "_" }
        self.init(
            kind: .server, code: isCode ? String(word) : nil,
            message: isCode ? String(serverReply.dropFirst(word.count + 1)) : serverReply, command: command)
    }

    /// Server codes that say "not now" rather than "never": loading, a busy script, a replica or
    /// a cluster in transition, memory full.
    public static let transientCodes: Set<String> = [
        "LOADING", "BUSY", "READONLY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "OOM",
    ]

    /// True when the call may pass if made again later: the connection failed or the server
    /// refused for a moment. A transient failure in flight does not say whether the command ran.
    public var isTransient: Bool {
        switch kind {
        case .io, .eof, .timeout, .connect: true
        case .server: code.map(Self.transientCodes.contains) ?? false
        case .protocol, .other: false
        }
    }

    public var description: String {
        "Redis error (\(kind.rawValue)\(code.map { " \($0)" } ?? "")): \(message)"
            + (errno.map { " (errno \($0))" } ?? "") + (command.map { " — in \($0)" } ?? "")
    }
}
