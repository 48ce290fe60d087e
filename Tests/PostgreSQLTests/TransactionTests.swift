import PostgreSQL
import TestSupport
import Testing

@Suite struct TransactionTests {
    let url: String
    let connection: PostgresConnection
    let insert = PostgresStatement("insert_item", "INSERT INTO items VALUES ($1)")

    init() throws {
        url = try PostgresServer.shared().createDatabase("transaction")
        connection = try PostgresConnection(url: url)
        try connection.query("CREATE TABLE items (id bigint PRIMARY KEY)")
    }

    /// The ids in the table, as another session sees them.
    func committedIDs() throws -> [String?] {
        let rows = try PostgresConnection(url: url).query("SELECT id FROM items ORDER BY id")
        return (0..<rows.count).map { rows.string($0, "id") }
    }

    @Test func commitsWhatTheBodyDid() throws {
        let answer = try connection.transaction { () throws(PostgresError) -> Int in
            try connection.execute(insert, [1])
            try connection.execute(insert, [2])
            return 42
        }
        #expect(answer == 42)
        #expect(try committedIDs() == ["1", "2"])
    }

    @Test func rollsBackWhenTheBodyThrows() throws {
        let refusal = PostgresError(message: "refused by the body")
        let error = #expect(throws: PostgresError.self) {
            try connection.transaction { () throws(PostgresError) in
                try connection.execute(insert, [1])
                throw refusal
            }
        }
        #expect(error == refusal)
        #expect(try committedIDs() == [])
        try connection.transaction { () throws(PostgresError) in try connection.execute(insert, [3]) }
        #expect(try committedIDs() == ["3"])
    }

    @Test func aCommitOfAFailedTransactionThrows() throws {
        let error = #expect(throws: PostgresError.self) {
            try connection.transaction { () throws(PostgresError) in
                try connection.execute(insert, [1])
                _ = try? connection.execute(insert, [1])
            }
        }
        #expect(error?.code == .inFailedSQLTransaction)
        #expect(try committedIDs() == [])
    }
}
