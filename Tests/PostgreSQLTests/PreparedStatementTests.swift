import PostgreSQL
import TestSupport
import Testing

@Suite struct PreparedStatementTests {
    static let next = PostgresStatement("next_number", "SELECT $1::bigint + 1 AS next")

    @Test func aStatementIsPreparedOnceAndReused() throws {
        let connection = try PostgresConnection(url: try PostgresServer.shared().url)
        for number in Int64(0)..<100 {
            #expect(try connection.execute(Self.next, [.int(number)]).int64(0, "next") == number + 1)
        }
        let prepared = try connection.query(
            "SELECT count(*) AS statements, sum(generic_plans + custom_plans) AS runs FROM pg_prepared_statements")
        #expect(try prepared.int64(0, "statements") == 1)
        #expect(try prepared.int64(0, "runs") == 100)
    }

    @Test func anotherStatementUnderAUsedNameIsRefused() throws {
        let connection = try PostgresConnection(url: try PostgresServer.shared().url)
        try connection.execute(Self.next, [1])
        let other = PostgresStatement(Self.next.name, "SELECT $1::bigint - 1 AS next")
        let error = #expect(throws: PostgresError.self) { try connection.execute(other, [1]) }
        #expect(error?.statement == Self.next.name)
        #expect(try connection.execute(Self.next, [1]).int64(0, "next") == 2)
    }

    @Test func aStatementThatDoesNotPrepareThrowsAndIsNotRemembered() throws {
        let connection = try PostgresConnection(url: try PostgresServer.shared().createDatabase("prepare"))
        let insert = PostgresStatement("insert_item", "INSERT INTO items VALUES ($1)")
        let error = #expect(throws: PostgresError.self) { try connection.execute(insert, [1]) }
        #expect(error?.code == .undefinedTable)
        #expect(error?.statement == "insert_item")
        try connection.query("CREATE TABLE items (id bigint)")
        #expect(try connection.execute(insert, [1]).affectedRows == 1)
    }
}
