import CSQLite

/// A SQLite result code, primary or extended, that code matches by name (`.full`, `.busy`)
/// rather than by number, as GRDB's `ResultCode` does. An extended code's low byte is its
/// primary code: `ioErrFsync.primary == .ioErr`.
public struct SQLiteResultCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32

    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    /// The primary code of an extended one (itself for a primary code).
    public var primary: SQLiteResultCode { SQLiteResultCode(rawValue: rawValue & 0xff) }

    /// SQLite's English for the code ("database or disk is full").
    public var description: String { String(cString: sqlite3_errstr(rawValue)) }

    public static let ok = SQLiteResultCode(rawValue: SQLITE_OK)
    public static let error = SQLiteResultCode(rawValue: SQLITE_ERROR)
    public static let abort = SQLiteResultCode(rawValue: SQLITE_ABORT)
    /// Another connection held the lock past the busy timeout.
    public static let busy = SQLiteResultCode(rawValue: SQLITE_BUSY)
    /// A conflict within the same connection or shared cache.
    public static let locked = SQLiteResultCode(rawValue: SQLITE_LOCKED)
    public static let noMem = SQLiteResultCode(rawValue: SQLITE_NOMEM)
    public static let readOnly = SQLiteResultCode(rawValue: SQLITE_READONLY)
    /// A read, write or sync of a file failed (see the extended codes below).
    public static let ioErr = SQLiteResultCode(rawValue: SQLITE_IOERR)
    public static let corrupt = SQLiteResultCode(rawValue: SQLITE_CORRUPT)
    /// The disk is full (a write answered ENOSPC), or the database reached `max_page_count`.
    public static let full = SQLiteResultCode(rawValue: SQLITE_FULL)
    public static let cantOpen = SQLiteResultCode(rawValue: SQLITE_CANTOPEN)
    public static let constraint = SQLiteResultCode(rawValue: SQLITE_CONSTRAINT)
    public static let misuse = SQLiteResultCode(rawValue: SQLITE_MISUSE)
    public static let notADB = SQLiteResultCode(rawValue: SQLITE_NOTADB)

    // Extended codes are C expressions (`SQLITE_IOERR | (4<<8)`), which Swift does not import.
    public static let ioErrRead = SQLiteResultCode(rawValue: SQLITE_IOERR | (1 << 8))
    public static let ioErrShortRead = SQLiteResultCode(rawValue: SQLITE_IOERR | (2 << 8))
    public static let ioErrWrite = SQLiteResultCode(rawValue: SQLITE_IOERR | (3 << 8))
    public static let ioErrFsync = SQLiteResultCode(rawValue: SQLITE_IOERR | (4 << 8))
    public static let ioErrDirFsync = SQLiteResultCode(rawValue: SQLITE_IOERR | (5 << 8))
    public static let ioErrTruncate = SQLiteResultCode(rawValue: SQLITE_IOERR | (6 << 8))
    public static let ioErrNoMem = SQLiteResultCode(rawValue: SQLITE_IOERR | (12 << 8))
    public static let ioErrLock = SQLiteResultCode(rawValue: SQLITE_IOERR | (15 << 8))
    public static let ioErrShmSize = SQLiteResultCode(rawValue: SQLITE_IOERR | (19 << 8))
    /// A page's checksum failed (the checksum VFS): damage, not a passing fault.
    public static let ioErrData = SQLiteResultCode(rawValue: SQLITE_IOERR | (32 << 8))
    /// The file system reported corruption: damage, not a passing fault.
    public static let ioErrCorruptFS = SQLiteResultCode(rawValue: SQLITE_IOERR | (33 << 8))
    public static let constraintCheck = SQLiteResultCode(rawValue: csqlite_constraint_check)
    public static let constraintPrimaryKey = SQLiteResultCode(rawValue: csqlite_constraint_primarykey)
    public static let constraintUnique = SQLiteResultCode(rawValue: csqlite_constraint_unique)
}
