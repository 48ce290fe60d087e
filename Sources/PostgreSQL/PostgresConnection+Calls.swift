import Basics
import CLibPQ
import Glibc

extension PostgresConnection {
    /// Before a call: reads what the server sent since the last one (an ended session shows as
    /// a FATAL message and EOF, which turn the status bad without anything being sent), then
    /// replaces a session that is gone, or that a 25006 condemned, with a new one. Inside a
    /// transaction a lost session is only reported: what follows would run outside it.
    func replaceLostSession(statement: String) throws(PostgresError) {
        for _ in 0..<4 where PQstatus(handle) == CONNECTION_OK && socketIsReadable() {
            _ = PQconsumeInput(handle)
        }
        let lost = PQstatus(handle) == CONNECTION_BAD
        guard lost || reconnectBeforeNextCall else { return }
        guard !inTransaction else {
            guard lost else { return }
            throw PostgresError(
                message: "the connection was lost during the transaction", statement: statement, connectionLost: true)
        }
        if let failed = reconnectFailedAtMs, monotonicMilliseconds() - failed < Self.reconnectPauseMs {
            throw PostgresError(
                message: "the server could not be reached a moment ago; not trying again yet", statement: statement,
                connectionLost: true)
        }
        reconnectBeforeNextCall = false
        prepared.removeAll()
        PQreset(handle)
        guard PQstatus(handle) == CONNECTION_OK else {
            reconnectFailedAtMs = monotonicMilliseconds()
            throw PostgresError(
                message: "reconnecting failed: " + secrets.redacting(trimmed(PQerrorMessage(handle))),
                statement: statement,
                connectionLost: true)
        }
        reconnectFailedAtMs = nil
    }

    /// True when the server has sent something (or closed the connection) since libpq last read.
    private func socketIsReadable() -> Bool {
        var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) == 1
    }

    /// Ends a failed transaction. Nothing to do when the session is gone: the server rolled
    /// the transaction back when it ended.
    func rollBack() {
        guard PQstatus(handle) == CONNECTION_OK else { return }
        PQclear(PQexec(handle, "ROLLBACK"))
    }

    /// Sends a call with `send` (a PQsend… function) and reads all its results, clearing each
    /// (this is their one owner): the last one's rows, or the first error. The first error says
    /// the most: a server that ends the session sends its FATAL (57P01) before libpq notices
    /// the closed connection and reports that. An answer that takes longer than
    /// `answerTimeoutMs` drops the session (see ``abandon(statement:)``), so no call waits for
    /// ever; an error once the call was sent says whether it may have taken effect
    /// (``PostgresError/outcomeUnknown``).
    @discardableResult
    func run(statement: String, _ send: () -> Int32) throws(PostgresError) -> PostgresRows {
        replicationWaitCanceled = false
        guard send() == 1 else { throw error(nil, statement: statement) }
        let deadline = monotonicMilliseconds() + Int64(answerTimeoutMs)
        var rows: PostgresRows?
        var failure: PostgresError?
        while true {
            guard waitForResult(until: deadline) else { throw abandon(statement: statement) }
            guard let result = PQgetResult(handle) else { break }
            defer { PQclear(result) }
            switch PQresultStatus(result) {
            case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
                rows = PostgresRows(result: result)
            case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
                endCopy()
                failure = failure ?? PostgresError(message: "COPY is not supported", statement: statement)
            default:
                failure = failure ?? error(result, statement: statement)
            }
        }
        if var failure {
            failure.connectionLost = PQstatus(handle) == CONNECTION_BAD
            // Lost after it was sent, before the server said how it ended (or after it gave up
            // waiting for its standby, having committed locally): it may have taken effect.
            failure.outcomeUnknown = replicationWaitCanceled || (failure.connectionLost && failure.sqlState == nil)
            throw failure
        }
        if replicationWaitCanceled {
            throw PostgresError(
                message: "the server committed locally but stopped waiting for its synchronous standby: "
                    + "the commit may not be on the standby", statement: statement, outcomeUnknown: true)
        }
        return rows ?? PostgresRows()
    }

    /// Waits until a result can be read without blocking, or `deadline` (monotonic ms) passes:
    /// false then. A connection that fails while waiting is readable: PQgetResult reports it.
    private func waitForResult(until deadline: Int64) -> Bool {
        // Reads first: under TLS, bytes libpq has not yet taken may wait decrypted in OpenSSL,
        // which the socket does not show.
        while PQconsumeInput(handle) == 1 && PQisBusy(handle) == 1 {
            let left = deadline - monotonicMilliseconds()
            guard left > 0 else { return false }
            var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            if poll(&descriptor, 1, Int32(min(left, Int64(Int32.max)))) < 0 && errno != EINTR { return false }
        }
        return true
    }

    /// Drops a session whose answer did not come in time: shuts its socket down, so that libpq
    /// marks it bad and the next call connects anew, and reads what libpq makes of that. What
    /// the call sent may have taken effect (a COMMIT waiting for a synchronous standby that is
    /// gone has committed locally).
    private func abandon(statement: String) -> PostgresError {
        shutdown(PQsocket(handle), Int32(SHUT_RDWR))
        _ = PQconsumeInput(handle)
        while let result = PQgetResult(handle) { PQclear(result) }
        reconnectBeforeNextCall = true
        return PostgresError(
            message: "no answer within \(answerTimeoutMs) ms (a stuck server, or a synchronous standby that does "
                + "not confirm): the session was dropped", statement: statement, connectionLost: true,
            outcomeUnknown: true)
    }

    /// Leaves a COPY the server started: refuses to send data, drops the data it sends.
    private func endCopy() {
        _ = PQputCopyEnd(handle, "COPY is not supported")
        var data: UnsafeMutablePointer<CChar>?
        while PQgetCopyData(handle, &data, 0) > 0 {
            PQfreemem(data)
        }
    }

    /// The error `result` reports (nil: libpq made none, out of memory or the connection gone),
    /// with the connection's message when the result has none.
    private func error(_ result: OpaquePointer?, statement: String) -> PostgresError {
        func field(_ code: Int32) -> String? {
            result.flatMap { PQresultErrorField($0, code) }.map { String(cString: $0) }
        }
        let resultMessage = result.map { trimmed(PQresultErrorMessage($0)) } ?? ""
        let sqlState = field(clibpq_diag_sqlstate)
        if sqlState == PostgresErrorCode.readOnlySQLTransaction.rawValue {
            reconnectBeforeNextCall = true
        }
        return PostgresError(
            sqlState: sqlState, message: resultMessage.isEmpty ? trimmed(PQerrorMessage(handle)) : resultMessage,
            primary: field(clibpq_diag_message_primary), detail: field(clibpq_diag_message_detail),
            statement: statement, connectionLost: PQstatus(handle) == CONNECTION_BAD)
    }

    /// Calls `body` with the parameter count and their texts as C strings (NULL for nil) that
    /// live for the call. PostgreSQL text cannot hold a NUL character, which would cut a C
    /// string short, so a parameter with one is refused.
    func withParameters(
        _ parameters: [PostgresValue?], statement: String,
        _ body: (Int32, UnsafePointer<UnsafePointer<CChar>?>?) throws(PostgresError) -> PostgresRows
    ) throws(PostgresError) -> PostgresRows {
        let texts = parameters.map { $0?.textValue }
        if let index = texts.firstIndex(where: { $0?.utf8.contains(0) == true }) {
            throw PostgresError(message: "parameter $\(index + 1) contains a NUL character", statement: statement)
        }
        return try withCStrings(texts) { pointers throws(PostgresError) in try body(Int32(texts.count), pointers) }
    }
}

/// Calls `body` with `strings` as C strings (NULL for nil) that live for the call.
func withCStrings<R, E: Error>(
    _ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) throws(E) -> R
) throws(E) -> R {
    var bytes: [CChar] = []
    let offsets = strings.map { string -> Int? in
        guard let string else { return nil }
        defer { bytes += string.utf8.map { CChar(bitPattern: $0) } + [0] }
        return bytes.count
    }
    return try bytes.withUnsafeBufferPointer { buffer throws(E) in
        // Pointers into `bytes`, valid while this closure runs.
        let pointers = offsets.map { offset in offset.map { buffer.baseAddress! + $0 } }
        return try pointers.withUnsafeBufferPointer { pointers throws(E) in try body(pointers.baseAddress) }
    }
}

/// A C string from libpq without the whitespace and newline libpq messages end with.
func trimmed(_ message: UnsafePointer<CChar>?) -> String {
    var text = Substring(message.map { String(cString: $0) } ?? "")
    while text.last?.isWhitespace == true { text.removeLast() }
    while text.first?.isWhitespace == true { text.removeFirst() }
    return String(text)
}
