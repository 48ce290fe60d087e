import Basics
import Foundation
import PostgreSQL
import TestSupport
import Testing

@Suite struct ReconnectTests {
    let next = PostgresStatement("next_number", "SELECT $1::bigint + 1 AS next")

    @Test func aKilledServerFailsTransientlyAndTheSameConnectionWorksOnceItIsBack() throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let connection = try PostgresConnection(url: server.url, connectTimeoutSeconds: 2)
        #expect(try connection.execute(next, [1]).int64(0, "next") == 2)
        server.kill()
        let started = Date()
        let lost = try #require(throws: PostgresError.self) { try connection.execute(next, [2]) }
        #expect(lost.connectionLost && lost.isTransient && !lost.outcomeUnknown)
        #expect(lost.message.contains("Connection refused"))
        #expect(Date().timeIntervalSince(started) < 5)
        // Right after a failed reconnection, calls fail at once rather than each trying again.
        let paused = Date()
        let again = try #require(throws: PostgresError.self) { try connection.execute(next, [2]) }
        #expect(again.connectionLost && again.isTransient && again.message.contains("not trying again yet"))
        #expect(Date().timeIntervalSince(paused) < 0.5)
        try server.start()
        #expect(eventually(within: 10) { (try? connection.execute(next, [3]).int64(0, "next")) == 4 })
        #expect(try preparedRuns(connection) == 1)
    }

    @Test func aServerKilledDuringAStatementFailsThatStatementOnly() throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let connection = try PostgresConnection(url: server.url, statementTimeoutMs: 30_000)
        try connection.execute(next, [1])
        let (pid, url) = (connection.backendPID, server.url)
        let killed = inBackground {
            if waitUntilSleeping(pid, url: url) { server.kill() }
        }
        let started = Date()
        let lost = try #require(throws: PostgresError.self) { try connection.query("SELECT pg_sleep(20)") }
        #expect(killed())
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(lost.connectionLost)
        #expect(lost.isTransient)
        try server.start()
        #expect(eventually(within: 10) { (try? connection.execute(next, [2]).int64(0, "next")) == 3 })
    }

    @Test func aSessionTerminatedDuringAStatementFailsItTransientlyThenReconnects() throws {
        let url = try PostgresServer.shared().url
        let connection = try PostgresConnection(url: url, statementTimeoutMs: 30_000)
        try connection.execute(next, [1])
        let pid = connection.backendPID
        let terminated = inBackground {
            if waitUntilSleeping(pid, url: url) { _ = try? terminate(pid, url: url) }
        }
        let started = Date()
        let lost = try #require(throws: PostgresError.self) { try connection.query("SELECT pg_sleep(20)") }
        #expect(terminated())
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(lost.connectionLost)
        #expect(lost.code == .adminShutdown)
        #expect(lost.isTransient)
        #expect(try connection.execute(next, [2]).int64(0, "next") == 3)
        #expect(connection.backendPID != pid)
        #expect(try preparedRuns(connection) == 1)
    }

    /// Nothing was sent when the session was found gone, so replacing it is safe.
    @Test func aSessionTerminatedWhileIdleIsReplacedBeforeTheNextCall() throws {
        let url = try PostgresServer.shared().url
        let connection = try PostgresConnection(url: url)
        try connection.execute(next, [1])
        let pid = connection.backendPID
        #expect(try terminate(pid, url: url))
        #expect(try connection.execute(next, [2]).int64(0, "next") == 3)
        #expect(connection.backendPID != pid)
        #expect(try preparedRuns(connection) == 1)
    }

    /// The statements after a lost session must not run outside the transaction they belong to.
    @Test func aSessionLostInATransactionIsNotReplacedBeforeTheTransactionEnds() throws {
        let url = try PostgresServer.shared().createDatabase("lost_transaction")
        let connection = try PostgresConnection(url: url)
        try connection.query("CREATE TABLE items (id bigint)")
        let insert = PostgresStatement("insert_item", "INSERT INTO items VALUES ($1)")
        let error = try #require(throws: PostgresError.self) {
            try connection.transaction { () throws(PostgresError) in
                try connection.execute(insert, [1])
                #expect((try? terminate(connection.backendPID, url: url)) == true)
                let lost = #expect(throws: PostgresError.self) { try connection.execute(insert, [2]) }
                #expect(lost?.connectionLost == true)
                try connection.execute(insert, [3])
            }
        }
        #expect(error.connectionLost)
        #expect(try connection.query("SELECT count(*) AS n FROM items").int64(0, "n") == 0)
    }

    /// A SET would be lost with the session; settings given to the connection are not.
    @Test func settingsHoldForTheSessionsAfterAReconnection() throws {
        let url = try PostgresServer.shared().url
        let settings = ["synchronous_commit": "off", "search_path": "sale, public", "statement_timeout": "1234"]
        let connection = try PostgresConnection(url: url, settings: settings)
        let show =
            "SELECT current_setting('synchronous_commit') AS sync, current_setting('search_path') AS path,"
            + " current_setting('statement_timeout') AS timeout"
        let firstSession = connection.backendPID
        for session in ["first", "after reconnecting"] {
            let rows = try connection.query(show)
            #expect(rows.string(0, "sync") == "off", "\(session)")
            #expect(rows.string(0, "path") == "sale, public", "\(session)")
            #expect(rows.string(0, "timeout") == "1234ms", "\(session)")
            if connection.backendPID == firstSession { #expect(try terminate(firstSession, url: url)) }
        }
        #expect(connection.backendPID != firstSession)
    }
}
