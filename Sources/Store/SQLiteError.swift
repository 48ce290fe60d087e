import CSQLite

/// A failed SQLite call with the C facts: result code, extended result code, SQLite's
/// message and the SQL that was running.
public struct SQLiteError: Error, Sendable, Equatable, CustomStringConvertible {
    public var resultCode: Int32
    public var extendedResultCode: Int32
    public var message: String
    public var sql: String?

    /// The primary result code, by name (`.full`, `.busy`).
    public var code: SQLiteResultCode { SQLiteResultCode(rawValue: resultCode) }

    /// The extended result code, by name (`.ioErrFsync`, `.constraintUnique`).
    public var extendedCode: SQLiteResultCode { SQLiteResultCode(rawValue: extendedResultCode) }

    public var description: String {
        "SQLite error \(resultCode) (extended \(extendedResultCode)): \(message)" + (sql.map { " — in `\($0)`" } ?? "")
    }
}

extension SQLiteError {
    /// True when another connection held the lock past the busy timeout: a moment's overload,
    /// worth retrying, not a failure.
    public var isBusy: Bool { code == .busy || code == .locked }

    /// True when a write found the disk full (ENOSPC).
    public var isDiskFull: Bool { code == .full }

    /// True when reading, writing or syncing a file failed in a way that may pass: a full disk
    /// seen by write(2) or fdatasync(2), an I/O error. Not a checksum or file-system corruption
    /// report, which is damage.
    public var isIOFault: Bool {
        code == .ioErr && extendedCode != .ioErrData && extendedCode != .ioErrCorruptFS
    }

    /// True when the call failed for a reason of the moment and left the database as it was:
    /// the lock was busy, the disk full or a write or sync failed. Worth retrying once the lock
    /// frees or space returns, with nothing to repair; not an internal error.
    public var isTransient: Bool { isBusy || isDiskFull || isIOFault }
}

extension StoreError {
    /// True when the store failed for a reason of the moment and changed nothing (see
    /// `SQLiteError.isTransient`): busy, a full disk, a failed write or sync. The caller
    /// answers such a failure like a busy database, 503 `busy` with `Retry-After`.
    public var isTransient: Bool {
        if case .database(let error) = self { return error.isTransient }
        return false
    }

    /// True when the store cannot answer now and a retry may succeed: a busy database, and
    /// every other transient fault (`isTransient`), which a buyer is answered the same way.
    public var isBusy: Bool { isTransient }
}
