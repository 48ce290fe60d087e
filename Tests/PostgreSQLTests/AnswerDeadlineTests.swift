import Basics
import Foundation
import PostgreSQL
import TestSupport
import Testing

@Suite struct AnswerDeadlineTests {
    /// A server of the test's own with a table `waits`, whose commits wait for a synchronous
    /// standby that does not exist.
    static func serverWaitingForAGhostStandby() throws -> PostgresServer {
        let server = try PostgresServer()
        try server.psql("CREATE TABLE waits (n integer)")
        try server.psql("ALTER SYSTEM SET synchronous_standby_names = 'ghost'")
        try server.psql("SELECT pg_reload_conf()")
        return server
    }

    /// Takes the standby out of `synchronous_standby_names`: the waiting commits complete.
    static func forgetTheStandby(_ server: PostgresServer) throws {
        try server.psql("ALTER SYSTEM RESET synchronous_standby_names")
        try server.psql("SELECT pg_reload_conf()")
    }

    /// A synchronous standby that never confirms: the server waits at COMMIT past any statement
    /// timeout. The call gives up after its answer timeout, drops the session, and says the
    /// statement may have taken effect, which it did, on the primary.
    @Test func aCommitWaitingForAStandbyForEverIsGivenUpOnAndItsOutcomeIsUnknown() throws {
        let server = try Self.serverWaitingForAGhostStandby()
        defer { server.stop() }
        let connection = try PostgresConnection(url: server.url, statementTimeoutMs: 200)
        let started = Date()
        let error = try #require(throws: PostgresError.self) { try connection.query("INSERT INTO waits VALUES (1)") }
        let waited = Date().timeIntervalSince(started)
        #expect(error.outcomeUnknown && error.connectionLost && error.isTransient, "\(error)")
        #expect(error.message.contains("no answer within"), "\(error)")
        // The statement timeout (0.2 s) and the margin (5 s): the server stopped applying the former.
        #expect(waited >= 5 && waited < 15, "gave up after \(waited) s")
        // The standby is forgotten: the waiting commit completes, and the same connection reads it.
        try Self.forgetTheStandby(server)
        #expect(
            eventually(within: 10) { (try? connection.query("SELECT count(*) AS n FROM waits").int64(0, "n")) == 1 })
    }

    /// An operator cancels a COMMIT's wait for its standby: the server answers success with a
    /// warning, the commit being local only. The call says its outcome is unknown instead.
    @Test func aCommitWhoseStandbyWaitIsCanceledIsNotASuccess() throws {
        let server = try Self.serverWaitingForAGhostStandby()
        defer { server.stop() }
        let connection = try PostgresConnection(url: server.url, statementTimeoutMs: 30_000)
        let (pid, url) = (Int64(connection.backendPID), server.url)
        let canceled = inBackground {
            guard let watcher = try? PostgresConnection(url: url) else { return }
            let waiting = eventually(within: 10) {
                let rows = try? watcher.query(
                    "SELECT count(*) AS n FROM pg_stat_activity WHERE pid = $1 AND wait_event = 'SyncRep'", [.int(pid)])
                return (try? rows?.int64(0, "n")) == 1
            }
            if waiting { _ = try? watcher.query("SELECT pg_cancel_backend($1)", [.int(pid)]) }
        }
        let error = try #require(throws: PostgresError.self) { try connection.query("INSERT INTO waits VALUES (1)") }
        #expect(canceled())
        #expect(error.outcomeUnknown && !error.connectionLost, "\(error)")
        #expect(error.message.contains("synchronous standby"), "\(error)")
        try Self.forgetTheStandby(server)
        #expect(try connection.query("SELECT count(*) AS n FROM waits").int64(0, "n") == 1)
    }
}
