import Foundation
import PostgreSQL
import TestSupport
import Testing

@Suite struct ConnectTests {
    /// The error connecting to `url` throws.
    func connectError(_ url: String, timeout: Int = 5) throws -> PostgresError {
        try #require(throws: PostgresError.self) { try PostgresConnection(url: url, connectTimeoutSeconds: timeout) }
    }

    @Test func aWrongPasswordIsRefusedWithAClearMessage() throws {
        let server = try PostgresServer.shared()
        let role = "buyer_\(UInt32.random(in: 0...UInt32.max))"
        try PostgresConnection(url: server.url)
            .query("CREATE ROLE \(role) LOGIN PASSWORD 'right' IN ROLE password_users")
        let wrong = try connectError("postgres://\(role):wrong@127.0.0.1:\(server.port)/postgres")
        #expect(wrong.message.contains("password authentication failed for user \"\(role)\""))
        #expect(wrong.connectionLost)
        let none = try connectError("postgres://\(role)@127.0.0.1:\(server.port)/postgres")
        #expect(none.message.contains("no password supplied"))
        let right = try PostgresConnection(url: "postgres://\(role):right@127.0.0.1:\(server.port)/postgres")
        #expect(try right.query("SELECT current_user AS me").string(0, "me") == role)
    }

    @Test func anUnknownDatabaseIsNamed() throws {
        let error = try connectError(try PostgresServer.shared().url(database: "no_such_sale"))
        #expect(error.message.contains("database \"no_such_sale\" does not exist"))
    }

    @Test func aClosedPortIsRefused() throws {
        let port = try freePort()
        let error = try connectError("postgres://flashsale@127.0.0.1:\(port)/postgres")
        #expect(error.message.contains("Connection refused"))
        #expect(error.isTransient)
    }

    @Test func aKeyValueConninfoWorksToo() throws {
        let port = try PostgresServer.shared().port
        let connection = try PostgresConnection(url: "host=127.0.0.1 port=\(port) user=flashsale dbname=postgres")
        #expect(
            try connection.query("SELECT current_setting('application_name') AS name").string(0, "name") == "flashsale")
    }

    @Test func aMultiHostURLSkipsTheHostThatIsDown() throws {
        let server = try PostgresServer.shared()
        let down = try freePort()
        let url =
            "postgres://flashsale@127.0.0.1:\(down),127.0.0.1:\(server.port)/postgres?target_session_attrs=read-write"
        #expect(try PostgresConnection(url: url).query("SELECT 1 AS one").int64(0, "one") == 1)
    }

    /// A listening socket that never accepts: the kernel completes the handshake, and nothing
    /// ever answers libpq's first message.
    @Test func theConnectTimeoutBoundsAServerThatNeverAnswers() throws {
        let silent = try PortHolder()
        let started = Date()
        let error = try connectError("postgres://flashsale@127.0.0.1:\(silent.port)/postgres", timeout: 1)
        let waited = Date().timeIntervalSince(started)
        #expect(waited >= 0.9 && waited < 5)
        #expect(error.message.contains("timeout expired"))
        #expect(error.isTransient)
    }

    /// libpq quotes a URL or conninfo it cannot parse, password included: the message keeps it out.
    @Test func aPasswordNeverReachesTheMessageOfAConnectionStringLibpqCannotParse() throws {
        for (url, secret) in [
            ("postgres://flashsale:se%zzcret@127.0.0.1/postgres", "se%zzcret"),
            ("postgres://flashsale:sec ret@[::1/postgres", "sec ret"),
            ("host=127.0.0.1 password=hunter2 port=", "hunter2"),
        ] {
            let error = try #require(throws: PostgresError.self) { try PostgresConnection(url: url) }
            #expect(!error.message.contains(secret) && !error.description.contains(secret), "\(error)")
        }
    }
}
