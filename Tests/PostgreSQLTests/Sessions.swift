import Basics
import Foundation
import PostgreSQL

/// Runs `body` on a thread of its own while the test thread blocks in a statement; the result
/// waits (bounded) for `body` to finish and says whether it did.
func inBackground(_ body: @escaping @Sendable () -> Void) -> () -> Bool {
    let finished = DispatchSemaphore(value: 0)
    Thread {
        body()
        finished.signal()
    }.start()
    return { finished.wait(timeout: .now() + 30) == .success }
}

/// Waits (bounded), watching from a session of its own on `url`, until backend `pid` sleeps in
/// pg_sleep; true if it did.
func waitUntilSleeping(_ pid: Int32, url: String) -> Bool {
    guard let watcher = try? PostgresConnection(url: url) else { return false }
    return eventually(within: 10) {
        let sleeping = try? watcher.query(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE pid = $1 AND wait_event = 'PgSleep'", [.int(Int64(pid))])
        return (try? sleeping?.int64(0, "n")) == 1
    }
}

/// Ends backend `pid` from another session on `url` and waits (bounded) until its process is
/// gone, its socket closed with it; true if it went.
func terminate(_ pid: Int32, url: String) throws -> Bool {
    let rows = try PostgresConnection(url: url).query("SELECT pg_terminate_backend($1) AS ended", [.int(Int64(pid))])
    guard try rows.bool(0, "ended") == true else { return false }
    return eventually(within: 10) { kill(pid, 0) == -1 && errno == ESRCH }
}

/// How many times the statements prepared in the connection's current session have run.
func preparedRuns(_ connection: PostgresConnection) throws -> Int64? {
    try connection.query("SELECT sum(generic_plans + custom_plans) AS runs FROM pg_prepared_statements")
        .int64(0, "runs")
}
