/// A failed libpq call with the C facts: the server's SQLSTATE and messages when the server
/// answered, libpq's message otherwise, the statement that was running, and whether the
/// connection was lost (so the statement's outcome is unknown).
public struct PostgresError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The five-character SQLSTATE (`PG_DIAG_SQLSTATE`); nil for errors libpq raised itself.
    public var sqlState: String?
    /// PQresultErrorMessage (or PQerrorMessage when there was no result), trimmed: severity,
    /// primary message and any DETAIL or HINT lines.
    public var message: String
    /// The server's primary message alone (`PG_DIAG_MESSAGE_PRIMARY`).
    public var primary: String?
    /// The server's DETAIL line (`PG_DIAG_MESSAGE_DETAIL`), such as the duplicate key.
    public var detail: String?
    /// The prepared statement's name, or the SQL of an unprepared one.
    public var statement: String?
    /// True when the connection was lost or could not be (re)established. The next call on the
    /// connection reconnects.
    public var connectionLost: Bool
    /// True when the statement was sent and may have taken effect all the same: the connection
    /// was lost before its answer, the answer did not come in time, or the server committed it
    /// locally but gave up waiting for its synchronous standby. False when it never reached the
    /// server, or the server answered that it failed.
    public var outcomeUnknown: Bool

    public init(
        sqlState: String? = nil, message: String, primary: String? = nil, detail: String? = nil,
        statement: String? = nil, connectionLost: Bool = false, outcomeUnknown: Bool = false
    ) {
        self.sqlState = sqlState
        self.message = message
        self.primary = primary
        self.detail = detail
        self.statement = statement
        self.connectionLost = connectionLost
        self.outcomeUnknown = outcomeUnknown
    }

    /// The SQLSTATE, by name (`.uniqueViolation`).
    public var code: PostgresErrorCode? { sqlState.map(PostgresErrorCode.init(rawValue:)) }

    public var description: String {
        "PostgreSQL error" + (sqlState.map { " \($0)" } ?? "") + ": " + (primary ?? message)
            + (detail.map { " (\($0))" } ?? "") + (connectionLost ? " [connection lost]" : "")
            + (statement.map { " — in \($0)" } ?? "")
    }
}

extension PostgresError {
    /// A UNIQUE or primary key constraint refused the row (23505).
    public var isUniqueViolation: Bool { code == .uniqueViolation }

    /// The transaction lost a serialization conflict or a deadlock (40001, 40P01) and was
    /// rolled back: running it again may succeed.
    public var isSerializationFailure: Bool { code == .serializationFailure || code == .deadlockDetected }

    /// The server is a standby, or the transaction is read-only (25006). The connection
    /// reconnects before its next call, so a multi-host URL with `target_session_attrs=read-write`
    /// finds the new primary.
    public var isReadOnlyTransaction: Bool { code == .readOnlySQLTransaction }

    /// The statement ran past `statement_timeout` or was cancelled (57014).
    public var isStatementTimeout: Bool { code == .queryCanceled }

    /// The server could not extend a file (53100).
    public var isDiskFull: Bool { code == .diskFull }

    /// True when the call failed for a reason of the moment: the connection was lost or could
    /// not be made (class 08), the server is shutting down, restarting or starting (57P01,
    /// 57P02, 57P03), short of resources (class 53: disk, memory, connections), the transaction
    /// lost a conflict (40001, 40P01), the server is a standby (25006) or the statement timed out
    /// (57014). Worth retrying later; after `connectionLost` the statement's outcome is unknown.
    public var isTransient: Bool {
        guard !connectionLost else { return true }
        guard let code else { return false }
        return code.errorClass == "08" || code.errorClass == "53"
            || [
                .adminShutdown, .crashShutdown, .cannotConnectNow, .serializationFailure, .deadlockDetected,
                .readOnlySQLTransaction, .queryCanceled,
            ].contains(code)
    }
}
