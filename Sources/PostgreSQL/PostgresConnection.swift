import CLibPQ

/// One PostgreSQL session, the only owner of its PGconn (PQfinish in deinit). One caller at a
/// time: not Sendable.
///
/// A call first replaces a session that is gone (the server restarted, failed over, or an
/// administrator ended it), reconnecting with PQreset and forgetting the prepared statements;
/// when that fails it throws a transient error. A call whose connection drops while it runs
/// throws (`connectionLost`) and is not retried: the statement may have committed.
public final class PostgresConnection {
    /// Added to the statement timeout to bound how long the kernel waits for a peer that
    /// stopped acknowledging (tcp_user_timeout), and how long a call waits for its answer.
    static let tcpTimeoutMarginMs = 5_000
    /// After a reconnection fails, calls fail at once for this long instead of each trying
    /// again (each try may take the connect timeout).
    static let reconnectPauseMs: Int64 = 1_000

    /// The URL's password, kept out of the messages of reconnections.
    let secrets: ConnectionSecrets
    /// How long a call waits for its answer: past the statement timeout (which the server stops
    /// applying at COMMIT, while it waits for a synchronous standby), the session is dropped.
    let answerTimeoutMs: Int
    /// When the last reconnection failed (monotonic milliseconds), if it did.
    var reconnectFailedAtMs: Int64?
    /// Set by the notice receiver when the server gave up waiting for a synchronous standby
    /// after committing locally: the call's outcome is then unknown, not a success.
    var replicationWaitCanceled = false

    // The PGconn; made in init, PQfinish'ed in deinit, used only through this class.
    let handle: OpaquePointer
    /// The statements prepared in the current session: name → SQL.
    var prepared: [String: String] = [:]
    /// True inside `transaction`: a lost session is then not replaced (the statements after it
    /// would run outside the transaction), only reported.
    var inTransaction = false
    /// Set by a 25006 (the server is a standby): the next call reconnects, so that a multi-host
    /// URL with `target_session_attrs=read-write` finds the new primary.
    var reconnectBeforeNextCall = false

    /// Connects to `url`, a `postgres://` URL or a `key=value` conninfo (several hosts and
    /// `target_session_attrs` included: libpq tries them in turn). Each host gets
    /// `connectTimeoutSeconds` (libpq makes 1 into 2); every statement of the session
    /// `statementTimeoutMs`; and a peer that stops answering fails the call after the statement
    /// timeout plus a margin (keepalives and `tcp_user_timeout`) instead of blocking it forever.
    /// `settings` (`synchronous_commit`: `on`) hold for every session, reconnections included,
    /// where a SET would be lost with the session. They and the statement timeout are sent as
    /// `options`, which replaces any `options` in `url`.
    public init(
        url: String, connectTimeoutSeconds: Int = 5, statementTimeoutMs: Int = 5_000, settings: [String: String] = [:]
    ) throws(PostgresError) {
        let options = (["statement_timeout": String(statementTimeoutMs)].merging(settings) { $1 })
            .sorted { $0.key < $1.key }.map { "-c \(escapedOption($0.key))=\(escapedOption($0.value))" }
        // `dbname` first: with expand_dbname, the settings after it override what `url` says.
        let conninfo: [(String, String)] = [
            ("dbname", url),
            ("connect_timeout", String(connectTimeoutSeconds)),
            ("application_name", "flashsale"),
            ("options", options.joined(separator: " ")),
            ("keepalives", "1"),
            ("keepalives_idle", "5"),
            ("keepalives_interval", "2"),
            ("keepalives_count", "3"),
            ("tcp_user_timeout", String(statementTimeoutMs + Self.tcpTimeoutMarginMs)),
        ]
        let connection = withCStrings(conninfo.map(\.0) + [nil]) { keywords in
            withCStrings(conninfo.map(\.1) + [nil]) { values in PQconnectdbParams(keywords, values, 1) }
        }
        guard let connection else { throw PostgresError(message: "out of memory", connectionLost: true) }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = ConnectionSecrets(url).redacting(trimmed(PQerrorMessage(connection)))
            let error = PostgresError(message: message, connectionLost: true)
            PQfinish(connection)
            throw error
        }
        handle = connection
        secrets = ConnectionSecrets(url)
        answerTimeoutMs = statementTimeoutMs + Self.tcpTimeoutMarginMs
        // libpq prints notices (a WARNING, a NOTICE of DROP ... IF EXISTS) to stderr by default;
        // this receiver drops them but for the one that says a commit is not on the standby.
        // The context pointer is this connection, unretained: the receiver lives as long as the
        // PGconn, which this object owns and finishes in deinit.
        PQsetNoticeReceiver(
            handle,
            { context, result in
                guard let context, let result, isReplicationWaitCanceled(result) else { return }
                Unmanaged<PostgresConnection>.fromOpaque(context).takeUnretainedValue().replicationWaitCanceled = true
            }, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        PQfinish(handle)
    }

    /// The server's version as a number (150018 for 15.18).
    public var serverVersion: Int { Int(PQserverVersion(handle)) }

    /// The pid of the server process serving this session (changes when it reconnects).
    public var backendPID: Int32 { PQbackendPID(handle) }

    /// Runs `sql` unprepared, for migrations and rare statements. Without parameters `sql` may
    /// hold several statements (the rows are the last one's); with them, one, whose `$1`, `$2`…
    /// take `parameters` in order (nil is NULL). COPY is refused.
    @discardableResult
    public func query(_ sql: String, _ parameters: [PostgresValue?] = []) throws(PostgresError) -> PostgresRows {
        try replaceLostSession(statement: sql)
        guard !parameters.isEmpty else { return try run(statement: sql) { PQsendQuery(handle, sql) } }
        return try withParameters(parameters, statement: sql) { count, values throws(PostgresError) in
            try run(statement: sql) { PQsendQueryParams(handle, sql, count, nil, values, nil, nil, 0) }
        }
    }

    /// Runs `statement` with `parameters` (nil is NULL), preparing it first if this session has
    /// not yet.
    @discardableResult
    public func execute(_ statement: PostgresStatement, _ parameters: [PostgresValue?] = []) throws(PostgresError)
        -> PostgresRows
    {
        try replaceLostSession(statement: statement.name)
        switch prepared[statement.name] {
        case nil:
            try run(statement: statement.name) { PQsendPrepare(handle, statement.name, statement.sql, 0, nil) }
            prepared[statement.name] = statement.sql
        case statement.sql?:
            break
        default:
            throw PostgresError(
                message: "another statement is prepared under the name \(statement.name)", statement: statement.name)
        }
        return try withParameters(parameters, statement: statement.name) { count, values throws(PostgresError) in
            try run(statement: statement.name) {
                PQsendQueryPrepared(handle, statement.name, count, values, nil, nil, 0)
            }
        }
    }

    /// Runs `body` in a transaction: BEGIN, `body`, COMMIT. When `body` throws, the transaction
    /// is rolled back (errors of the rollback ignored) and its error rethrown. A COMMIT that
    /// fails throws; one the server answers ROLLBACK (`body` swallowed a failed statement) throws
    /// 25P02, in_failed_sql_transaction. Transactions do not nest.
    @discardableResult
    public func transaction<T>(_ body: () throws(PostgresError) -> T) throws(PostgresError) -> T {
        precondition(!inTransaction, "PostgresConnection.transaction does not nest")
        try query("BEGIN")
        inTransaction = true
        defer { inTransaction = false }
        let value: T
        do {
            value = try body()
        } catch {
            rollBack()
            throw error
        }
        let commit = try query("COMMIT")
        guard commit.command == "COMMIT" else {
            throw PostgresError(
                sqlState: PostgresErrorCode.inFailedSQLTransaction.rawValue,
                message: "COMMIT rolled back: a statement of the transaction had failed", statement: "COMMIT")
        }
        return value
    }
}

/// `text` for libpq's `options`, whose words are split at spaces unless escaped by a backslash.
private func escapedOption(_ text: String) -> String {
    String(text.flatMap { $0 == "\\" || $0 == " " ? ["\\", $0] : [$0] })
}

/// Whether the notice `result` is the server's "canceling wait for synchronous replication":
/// the transaction committed locally, and may not be on the standby. Known by the function
/// that raised it, which no `lc_messages` translates.
private func isReplicationWaitCanceled(_ result: OpaquePointer) -> Bool {
    guard let function = PQresultErrorField(result, clibpq_diag_source_function) else { return false }
    return String(cString: function) == "SyncRepWaitForLSN"
}

@available(*, unavailable, message: "one session uses a connection at a time")
extension PostgresConnection: Sendable {}
