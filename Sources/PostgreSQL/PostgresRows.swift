import CLibPQ

/// The rows and the affected-row count of one statement, copied out of its PGresult (which the
/// function that received it clears at once). Values stay in libpq's text format; the typed
/// accessors parse them. A row index out of range or a column name the result lacks is a
/// programming error, as an array index out of range is.
public struct PostgresRows: Sendable {
    /// The column names, in order.
    public let columns: [String]
    /// The values, row after row; nil is SQL NULL.
    private let values: [String?]
    /// The number of rows.
    public let count: Int
    /// Rows inserted, updated or deleted (PQcmdTuples); 0 for other statements.
    public let affectedRows: Int
    /// The command tag (PQcmdStatus): `INSERT 0 1`, `COMMIT`, or `ROLLBACK` for a COMMIT of a
    /// failed transaction.
    public let command: String

    /// No rows, no columns, no command.
    init() {
        (columns, values, count, affectedRows, command) = ([], [], 0, 0, "")
    }

    /// `result` is borrowed: read here, cleared by the caller.
    init(result: OpaquePointer) {
        let columnCount = PQnfields(result)
        let rowCount = PQntuples(result)
        columns = (0..<columnCount).map { String(cString: PQfname(result, $0)) }
        var values: [String?] = []
        values.reserveCapacity(Int(rowCount * columnCount))
        for row in 0..<rowCount {
            for column in 0..<columnCount {
                values.append(
                    PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column)))
            }
        }
        self.values = values
        count = Int(rowCount)
        affectedRows = Int(String(cString: PQcmdTuples(result))) ?? 0
        command = String(cString: PQcmdStatus(result))
    }

    public var isEmpty: Bool { count == 0 }

    /// The text of one value, nil for NULL.
    public subscript(row row: Int, column column: Int) -> String? {
        precondition(
            row >= 0 && row < count && column >= 0 && column < columns.count, "no value at (\(row), \(column))")
        return values[row * columns.count + column]
    }

    /// The text of the value in the named column, nil for NULL.
    public func string(_ row: Int, _ column: String) -> String? {
        self[row: row, column: index(of: column)]
    }

    /// The value in the named column as an integer, nil for NULL; throws when it is not one.
    public func int64(_ row: Int, _ column: String) throws(PostgresError) -> Int64? {
        guard let text = string(row, column) else { return nil }
        guard let value = Int64(text) else { throw notA("an integer", text, column) }
        return value
    }

    /// The value in the named column as a boolean (`t` or `f`), nil for NULL; throws when it is
    /// not one.
    public func bool(_ row: Int, _ column: String) throws(PostgresError) -> Bool? {
        switch string(row, column) {
        case nil: return nil
        case "t": return true
        case "f": return false
        case let text?: throw notA("a boolean", text, column)
        }
    }

    private func index(of column: String) -> Int {
        guard let index = columns.firstIndex(of: column) else {
            preconditionFailure("no column \(column) among \(columns)")
        }
        return index
    }

    private func notA(_ kind: String, _ text: String, _ column: String) -> PostgresError {
        PostgresError(message: "column \(column) holds \"\(text)\", not \(kind)")
    }
}
