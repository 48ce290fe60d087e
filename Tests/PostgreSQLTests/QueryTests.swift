import PostgreSQL
import TestSupport
import Testing

@Suite struct QueryTests {
    @Test func connectsAndQueries() throws {
        let connection = try PostgresConnection(url: try PostgresServer.shared().createDatabase("query"))
        let rows = try connection.query("SELECT 1 AS one, 'two' AS two, NULL AS three")
        #expect(rows.columns == ["one", "two", "three"])
        #expect(rows.count == 1)
        #expect(rows[row: 0, column: 1] == "two")
        #expect(try rows.int64(0, "one") == 1)
        #expect(rows.string(0, "three") == nil)
        #expect(connection.serverVersion >= 150_000)
    }

    @Test func parametersOfEachKindRoundTrip() throws {
        let connection = try PostgresConnection(url: try PostgresServer.shared().createDatabase("parameters"))
        let text = "it's \"quoted\"; \\ back — ünïcødé 🛒"
        let rows = try connection.query(
            """
            SELECT $1::text AS text, $2::bigint AS smallest, $3::bigint AS largest, $4::boolean AS yes,
                $5::boolean AS no, $6::text AS missing, $2::bigint = -9223372036854775808 AS exact
            """,
            [.text(text), .int(.min), .int(.max), true, false, nil])
        #expect(rows.string(0, "text") == text)
        #expect(try rows.int64(0, "smallest") == .min)
        #expect(try rows.int64(0, "largest") == .max)
        #expect(try rows.bool(0, "yes") == true)
        #expect(try rows.bool(0, "no") == false)
        #expect(rows.string(0, "missing") == nil)
        #expect(try rows.int64(0, "missing") == nil)
        #expect(try rows.bool(0, "exact") == true)
    }

    @Test func severalStatementsWithoutParametersAndAffectedRows() throws {
        let connection = try PostgresConnection(url: try PostgresServer.shared().createDatabase("statements"))
        try connection.query("CREATE TABLE items (id bigint PRIMARY KEY); INSERT INTO items VALUES (1), (2), (3)")
        let updated = try connection.query("UPDATE items SET id = id + 10 WHERE id >= $1", [2])
        #expect(updated.affectedRows == 2)
        #expect(updated.command == "UPDATE 2")
        #expect(updated.isEmpty)
        let selected = try connection.query("SELECT id FROM items ORDER BY id")
        #expect((0..<selected.count).map { selected.string($0, "id") } == ["1", "12", "13"])
        #expect(try connection.query("").count == 0)
    }

    @Test func aParameterWithANulCharacterIsRefusedBeforeItIsCut() throws {
        let connection = try PostgresConnection(url: try PostgresServer.shared().url)
        let error = #expect(throws: PostgresError.self) { try connection.query("SELECT $1::text", ["a\u{0}b"]) }
        #expect(error?.message.contains("$1") == true)
        #expect(error?.connectionLost == false)
    }

    @Test func aValueThatIsNotOfTheAskedTypeThrowsNamingItsColumn() throws {
        let connection = try PostgresConnection(url: try PostgresServer.shared().url)
        let rows = try connection.query("SELECT 'twelve' AS amount, 'yes' AS paid")
        let notInteger = #expect(throws: PostgresError.self) { try rows.int64(0, "amount") }
        #expect(notInteger?.message.contains("amount") == true)
        let notBoolean = #expect(throws: PostgresError.self) { try rows.bool(0, "paid") }
        #expect(notBoolean?.message.contains("paid") == true)
    }
}
