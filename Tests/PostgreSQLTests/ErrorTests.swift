import Foundation
import PostgreSQL
import TestSupport
import Testing

@Suite struct ErrorTests {
    @Test func aDuplicateKeyIsAUniqueViolationWithItsFacts() throws {
        let connection = try PostgresConnection(url: try PostgresServer.shared().createDatabase("unique"))
        try connection.query("CREATE TABLE orders (sale bigint, buyer text, PRIMARY KEY (sale, buyer))")
        let insert = PostgresStatement("insert_order", "INSERT INTO orders VALUES ($1, $2)")
        try connection.execute(insert, [7, "ada"])
        let error = try #require(throws: PostgresError.self) { try connection.execute(insert, [7, "ada"]) }
        #expect(error.sqlState == "23505")
        #expect(error.isUniqueViolation)
        #expect(!error.isTransient)
        #expect(!error.connectionLost)
        #expect(error.statement == "insert_order")
        #expect(error.primary == "duplicate key value violates unique constraint \"orders_pkey\"")
        #expect(error.detail == "Key (sale, buyer)=(7, ada) already exists.")
        #expect(
            error.description
                == "PostgreSQL error 23505: duplicate key value violates unique constraint \"orders_pkey\""
                + " (Key (sale, buyer)=(7, ada) already exists.) — in insert_order")
        #expect(try connection.query("SELECT count(*) AS n FROM orders").int64(0, "n") == 1)
    }

    @Test func aStatementOverTheTimeoutIsCancelledTransiently() throws {
        let connection = try PostgresConnection(url: try PostgresServer.shared().url, statementTimeoutMs: 200)
        let started = Date()
        let error = try #require(throws: PostgresError.self) { try connection.query("SELECT pg_sleep(10)") }
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(error.sqlState == "57014")
        #expect(error.isStatementTimeout)
        #expect(error.isTransient)
        #expect(!error.connectionLost)
        #expect(try connection.query("SELECT 1 AS one").int64(0, "one") == 1)
    }

    @Test func aStandbysRefusalIsTransientAndTheNextCallReconnects() throws {
        let connection = try PostgresConnection(url: try PostgresServer.shared().createDatabase("standby"))
        try connection.query("CREATE TABLE items (id bigint)")
        let firstSession = connection.backendPID
        try connection.query("SET default_transaction_read_only = on")
        let error = try #require(throws: PostgresError.self) { try connection.query("INSERT INTO items VALUES (1)") }
        #expect(error.isReadOnlyTransaction)
        #expect(error.isTransient)
        #expect(try connection.query("INSERT INTO items VALUES (1)").affectedRows == 1)
        #expect(connection.backendPID != firstSession)
    }

    @Test(arguments: [
        ("40001", true), ("40P01", true), ("57P01", true), ("57P03", true), ("08006", true), ("53100", true),
        ("53300", true), ("23505", false), ("42P01", false), ("22P02", false),
    ])
    func transientSQLStates(sqlState: String, transient: Bool) {
        #expect(PostgresError(sqlState: sqlState, message: "").isTransient == transient)
    }

    @Test func namedPredicates() {
        #expect(PostgresError(sqlState: "40P01", message: "").isSerializationFailure)
        #expect(PostgresError(sqlState: "53100", message: "").isDiskFull)
        #expect(PostgresError(message: "server closed the connection", connectionLost: true).isTransient)
        #expect(!PostgresError(message: "not a boolean").isTransient)
    }
}
