import CSQLite

/// A value bound to or read from a statement.
public enum SQLValue: Equatable, Sendable {
    case integer(Int64)
    case text(String)
    case null

    /// The integer, or nil for any other value.
    public var integer: Int64? {
        if case .integer(let value) = self { value } else { nil }
    }

    /// The text, or nil for any other value.
    public var text: String? {
        if case .text(let value) = self { value } else { nil }
    }
}

/// A prepared statement, its only owner: prepared once per process, reset and re-bound for
/// each use, finalized in deinit. It keeps its `Database` alive, since it needs the connection.
public final class Statement {
    // The sqlite3_stmt; prepared in init, finalized in deinit, used only through this class.
    private let handle: OpaquePointer
    private let database: Database
    public let sql: String

    init(database: Database, sql: String) throws(SQLiteError) {
        var prepared: OpaquePointer?
        try database.check(database.prepare(sql, into: &prepared), sql: sql)
        guard let prepared else {
            throw SQLiteError(
                resultCode: SQLITE_MISUSE, extendedResultCode: SQLITE_MISUSE, message: "empty SQL", sql: sql)
        }
        handle = prepared
        self.database = database
        self.sql = sql
    }

    deinit {
        sqlite3_finalize(handle)
    }

    /// Runs a statement that returns no rows.
    public func execute(_ values: [SQLValue] = []) throws(SQLiteError) {
        _ = try query(values)
    }

    /// Runs the statement with `values` bound in order and returns every row.
    public func query(_ values: [SQLValue] = []) throws(SQLiteError) -> [[SQLValue]] {
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        for (offset, value) in values.enumerated() {
            try database.check(bind(value, at: Int32(offset + 1)), sql: sql)
        }
        var rows: [[SQLValue]] = []
        while true {
            let rc = sqlite3_step(handle)
            if rc == SQLITE_DONE { return rows }
            guard rc == SQLITE_ROW else {
                try database.check(rc, sql: sql)
                return rows
            }
            rows.append((0..<sqlite3_column_count(handle)).map(column))
        }
    }

    private func bind(_ value: SQLValue, at index: Int32) -> Int32 {
        switch value {
        case .integer(let integer): sqlite3_bind_int64(handle, index, integer)
        case .text(let text): sqlite3_bind_text(handle, index, text, -1, csqlite_transient())
        case .null: sqlite3_bind_null(handle, index)
        }
    }

    private func column(_ index: Int32) -> SQLValue {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_INTEGER: .integer(sqlite3_column_int64(handle, index))
        case SQLITE_NULL: .null
        default: .text(sqlite3_column_text(handle, index).map { String(cString: $0) } ?? "")
        }
    }
}
