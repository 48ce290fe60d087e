import PostgreSQL
import Sales

/// A failure of PostgreSQL as the store reports it: the server's error with its SQLSTATE, and
/// whether an order may have been committed all the same (a connection lost while the group's
/// statement ran).
public struct PostgresFault: StoreFault, Equatable {
    public var error: PostgresError
    public var mayHaveCommitted: Bool

    public init(_ error: PostgresError, mayHaveCommitted: Bool = false) {
        self.error = error
        self.mayHaveCommitted = mayHaveCommitted
    }

    /// Another transaction held what this one needed (a lock past the statement timeout, a
    /// serialization failure): a moment's overload.
    public var isBusy: Bool { error.isSerializationFailure || error.isStatementTimeout }

    public var isTransient: Bool { error.isTransient }

    public var description: String { "\(error)" + (mayHaveCommitted ? " (the group may have been committed)" : "") }
}
