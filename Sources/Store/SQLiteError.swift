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
