import Basics
import CFastCGI
import Glibc

/// The one owner of a libfcgi `FCGX_Request`: accepts connections on a listening socket,
/// exposes the request's parameters and streams, and frees the request in `deinit`.
final class FastCGIRequest {
    // libfcgi keeps the address of the FCGX_Request between calls, so it lives in memory we
    // allocate once and never move; only this class touches it, and it frees it on deinit.
    private let raw: UnsafeMutablePointer<FCGX_Request>

    init(listeningOn socket: Int32) throws(SystemCallError) {
        raw = .allocate(capacity: 1)
        let rc = FCGX_InitRequest(raw, socket, 0)
        guard rc == 0 else {
            raw.deallocate()
            throw SystemCallError(libfcgi: "FCGX_InitRequest", returned: rc)
        }
    }

    deinit {
        FCGX_Free(raw, 1)
        raw.deallocate()
    }

    /// Accepts the next connection and reads its parameters: 0, or `-errno` on failure. The
    /// connection is closed after the answer even if the web server asked to keep it
    /// (FCGI_KEEP_CONN): the loop waits for new connections, not on old ones.
    func accept() -> Int32 {
        let rc = FCGX_Accept_r(raw)
        raw.pointee.keepConnection = 0
        if rc >= 0 {
            // A peer that stops sending mid-request holds the thread at most this long: a read
            // that times out ends the request's input (libfcgi marks the stream in error).
            var timeout = timeval(tv_sec: Self.readTimeoutSeconds, tv_usec: 0)
            setsockopt(
                raw.pointee.ipcFd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        return rc
    }

    /// How long a read of an accepted request's input may wait. lighttpd, nginx and mod_fcgid
    /// send a request whole, at once.
    static let readTimeoutSeconds = 5

    /// Ends the request in hand: flushes the output and closes the connection.
    func finish() {
        FCGX_Finish_r(raw)
    }

    /// The request's `NAME=value` parameters.
    func params() -> Params {
        var params = Params()
        guard let envp = raw.pointee.envp else { return params }
        var index = 0
        // envp is libfcgi's NULL-terminated array of C strings, valid until finish().
        while let entry = envp[index] {
            let bytes = UnsafeRawBufferPointer(start: entry, count: strlen(entry))
            params.append(entry: bytes)
            index += 1
        }
        return params
    }

    /// Reads up to `count` bytes of the request body.
    func readBody(_ count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        var body = [UInt8](repeating: 0, count: count)
        let read = body.withUnsafeMutableBufferPointer { buffer -> Int in
            var total = 0
            while total < count {
                // The pointer is inside `buffer`, and at most `count - total` bytes are written.
                let n = FCGX_GetStr(
                    UnsafeMutableRawPointer(buffer.baseAddress! + total).assumingMemoryBound(to: CChar.self),
                    Int32(count - total), raw.pointee.in)
                guard n > 0 else { break }
                total += Int(n)
            }
            return total
        }
        return Array(body.prefix(read))
    }

    /// Reads and discards the rest of the request's input up to its end (the empty STDIN
    /// record every web server sends), at most `limit` bytes: the connection is closed at once
    /// after the answer (LIBFCGI_OS_CLOSE_POLL_TIMEOUT 0), and closing on input the web server
    /// is still sending would fail its write before it reads the answer.
    func skipRestOfInput(atMost limit: Int) {
        guard FCGX_HasSeenEOF(raw.pointee.in) == 0 else { return }
        // On the stack: most requests end here with no input left, and pay no allocation for it.
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 4096) { trash in
            var skipped = 0
            while skipped < limit {
                // libfcgi writes at most `trash.count` bytes into the buffer and reads none of it.
                let n = FCGX_GetStr(trash.baseAddress, Int32(trash.count), raw.pointee.in)
                guard n > 0 else { return }
                skipped += Int(n)
            }
        }
    }

    /// Writes `bytes` to the response; false when the web server has gone away.
    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return true }
            // Reinterpreting UInt8 as CChar for the C call; libfcgi only reads `count` bytes.
            let chars = UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self)
            return FCGX_PutStr(chars, Int32(buffer.count), raw.pointee.out) == Int32(buffer.count)
        }
    }
}
