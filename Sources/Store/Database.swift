import CSQLite

/// One SQLite connection, its only owner. Opens with extended result codes and a busy
/// timeout (several function processes share the file), and asserts WAL mode.
///
/// The write-ahead log and its index (`-wal`, `-shm`) persist when the last connection closes
/// (SQLITE_FCNTL_PERSIST_WAL): a process that opens the database on a full disk then finds the
/// index it must map already allocated, and reads, where creating it would fail with
/// SQLITE_IOERR_SHMSIZE. The log is still checkpointed into the database file at that close.
public final class Database {
    /// How long a statement waits for another process's write lock before failing `busy`.
    public static let defaultBusyTimeoutMilliseconds: Int32 = 5000

    // The sqlite3 connection; opened in init, closed in deinit, used only through this class.
    private let handle: OpaquePointer

    public let path: String

    public init(path: String, busyTimeoutMilliseconds: Int32 = defaultBusyTimeoutMilliseconds) throws(SQLiteError) {
        var opened: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &opened, flags, nil)
        guard rc == SQLITE_OK, let opened else {
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(opened)
            throw SQLiteError(resultCode: rc & 0xff, extendedResultCode: rc, message: "\(message) (\(path))", sql: nil)
        }
        handle = opened
        self.path = path
        sqlite3_extended_result_codes(handle, 1)
        var persist: Int32 = 1
        sqlite3_file_control(handle, "main", SQLITE_FCNTL_PERSIST_WAL, &persist)
        csqlite_busy_wait(handle, busyTimeoutMilliseconds)
        let mode = try switchToWAL(busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        guard mode == "wal" else {
            throw SQLiteError(
                resultCode: SQLITE_ERROR, extendedResultCode: SQLITE_ERROR,
                message: "journal_mode is \(mode ?? "unknown"), not wal", sql: "PRAGMA journal_mode=WAL")
        }
    }

    /// Sets WAL mode and answers the mode in force. Several processes opening a new database
    /// at once race to convert it, and SQLite answers the losers SQLITE_BUSY at once instead
    /// of calling the busy handler (waiting could deadlock), so this retries within the timeout.
    private func switchToWAL(busyTimeoutMilliseconds: Int32) throws(SQLiteError) -> String? {
        var waited: Int32 = 0
        while true {
            do {
                return try text("PRAGMA journal_mode=WAL")
            } catch  where error.resultCode == SQLITE_BUSY && waited < busyTimeoutMilliseconds {
                waited += sqlite3_sleep(5)
            }
        }
    }

    deinit {
        sqlite3_close_v2(handle)
    }

    /// Prepares a statement to keep and run many times.
    public func prepare(_ sql: String) throws(SQLiteError) -> Statement {
        try Statement(database: self, sql: sql)
    }

    /// Runs one or more statements that return no rows (migrations, pragmas).
    public func execute(_ sql: String) throws(SQLiteError) {
        try check(sqlite3_exec(handle, sql, nil, nil, nil), sql: sql)
    }

    /// The first column of the first row of `sql`, as text (an integer in decimal).
    public func text(_ sql: String) throws(SQLiteError) -> String? {
        switch try prepare(sql).query().first?.first {
        case .integer(let value): String(value)
        case .text(let value): value
        case .null, nil: nil
        }
    }

    /// Syncs the write-ahead log to disk: every transaction committed to it so far, by any
    /// connection, is then durable. Called after COMMIT, outside the write lock.
    ///
    /// A failure carries xSync's own code, SQLite's English for it and the errno of the log
    /// file: the connection's last error (`sqlite3_errmsg`) describes another call.
    public func syncWAL() throws(SQLiteError) {
        var systemErrno: Int32 = 0
        let rc = csqlite_sync_wal(handle, &systemErrno)
        guard rc != SQLITE_OK else { return }
        throw SQLiteError(
            resultCode: rc & 0xff, extendedResultCode: rc, message: String(cString: sqlite3_errstr(rc)),
            sql: "fdatasync of the write-ahead log", systemErrno: systemErrno)
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE on this connection.
    public var changes: Int {
        Int(sqlite3_changes(handle))
    }

    func prepare(_ sql: String, into statement: inout OpaquePointer?) -> Int32 {
        sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
    }

    func check(_ rc: Int32, sql: String) throws(SQLiteError) {
        guard rc != SQLITE_OK else { return }
        throw SQLiteError(
            resultCode: rc & 0xff, extendedResultCode: sqlite3_extended_errcode(handle),
            message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }
}
