import CSQLite
import Sales

/// A failed SQLite call with the C facts: result code, extended result code, SQLite's
/// message, the SQL that was running and, where known, the errno of the failed system call.
public struct SQLiteError: Error, Sendable, Equatable, CustomStringConvertible {
    public var resultCode: Int32
    public var extendedResultCode: Int32
    public var message: String
    public var sql: String?
    /// The errno the VFS recorded for the failed file operation (a sync's EIO), or 0.
    public var systemErrno: Int32 = 0

    /// The primary result code, by name (`.full`, `.busy`).
    public var code: SQLiteResultCode { SQLiteResultCode(rawValue: resultCode) }

    /// The extended result code, by name (`.ioErrFsync`, `.constraintUnique`).
    public var extendedCode: SQLiteResultCode { SQLiteResultCode(rawValue: extendedResultCode) }

    public var description: String {
        "SQLite error \(resultCode) (extended \(extendedResultCode)): \(message)"
            + (systemErrno == 0 ? "" : " (errno \(systemErrno))") + (sql.map { " — in `\($0)`" } ?? "")
    }
}

extension SQLiteError {
    /// True when another connection held the lock past the busy timeout: a moment's overload,
    /// worth retrying, not a failure.
    public var isBusy: Bool { code == .busy || code == .locked }

    /// True when a write found the disk full (ENOSPC).
    public var isDiskFull: Bool { code == .full }

    /// True when a write failed in a way that passes once space returns, before COMMIT, so the
    /// transaction rolls back: write(2) refused (IOERR_WRITE: a quota, EIO), the WAL index or a
    /// file could not grow or shrink (IOERR_SHMSIZE, IOERR_TRUNCATE). Nothing else of
    /// SQLITE_IOERR: a short read is a truncated file, a failed sync may have dropped written
    /// pages (`SQLiteSaleStore` then stops orders), a checksum or file-system report is damage.
    public var isIOFault: Bool {
        [.ioErrWrite, .ioErrShmSize, .ioErrTruncate].contains(extendedCode)
    }

    /// True when the call failed for a reason of the moment and left the database as it was:
    /// the lock was busy, the disk full or a write failed for want of space. Worth retrying once
    /// the lock frees or space returns, with nothing to repair; not an internal error.
    public var isTransient: Bool { isBusy || isDiskFull || isIOFault }
}

extension SQLiteError: StoreFault {}
