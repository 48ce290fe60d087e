/// A SQLSTATE that code matches by name (`.uniqueViolation`) rather than by its five
/// characters. The first two characters are its class (`"08"`: connection exception).
public struct PostgresErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The class: the first two characters (`"23"`: integrity constraint violation).
    public var errorClass: Substring { rawValue.prefix(2) }

    public var description: String { rawValue }

    public static let connectionFailure = PostgresErrorCode(rawValue: "08006")
    public static let readOnlySQLTransaction = PostgresErrorCode(rawValue: "25006")
    public static let inFailedSQLTransaction = PostgresErrorCode(rawValue: "25P02")
    public static let uniqueViolation = PostgresErrorCode(rawValue: "23505")
    public static let foreignKeyViolation = PostgresErrorCode(rawValue: "23503")
    public static let checkViolation = PostgresErrorCode(rawValue: "23514")
    public static let notNullViolation = PostgresErrorCode(rawValue: "23502")
    public static let invalidPassword = PostgresErrorCode(rawValue: "28P01")
    public static let serializationFailure = PostgresErrorCode(rawValue: "40001")
    public static let deadlockDetected = PostgresErrorCode(rawValue: "40P01")
    public static let undefinedTable = PostgresErrorCode(rawValue: "42P01")
    public static let diskFull = PostgresErrorCode(rawValue: "53100")
    public static let outOfMemory = PostgresErrorCode(rawValue: "53200")
    public static let tooManyConnections = PostgresErrorCode(rawValue: "53300")
    /// A statement timeout or a cancel request.
    public static let queryCanceled = PostgresErrorCode(rawValue: "57014")
    /// The server is shutting down, or an administrator terminated the session.
    public static let adminShutdown = PostgresErrorCode(rawValue: "57P01")
    /// Another backend crashed and the server is restarting.
    public static let crashShutdown = PostgresErrorCode(rawValue: "57P02")
    /// The server is starting up, shutting down or in recovery.
    public static let cannotConnectNow = PostgresErrorCode(rawValue: "57P03")
}
