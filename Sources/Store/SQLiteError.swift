import CSQLite

/// A failed SQLite call with the C facts: result code, extended result code, SQLite's
/// message and the SQL that was running.
public struct SQLiteError: Error, Sendable, Equatable, CustomStringConvertible {
    public var resultCode: Int32
    public var extendedResultCode: Int32
    public var message: String
    public var sql: String?

    public var description: String {
        "SQLite error \(resultCode) (extended \(extendedResultCode)): \(message)" + (sql.map { " — in `\($0)`" } ?? "")
    }
}

extension SQLiteError {
    /// True when another connection held the lock past the busy timeout: a moment's overload,
    /// worth retrying, not a failure.
    public var isBusy: Bool { resultCode == SQLITE_BUSY || resultCode == SQLITE_LOCKED }
}

extension StoreError {
    /// True when the database was too busy to answer (see `SQLiteError.isBusy`).
    public var isBusy: Bool {
        if case .database(let error) = self { return error.isBusy }
        return false
    }
}
