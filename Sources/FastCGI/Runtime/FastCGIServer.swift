import Basics
import CFastCGI
import CProcessShims
import Glibc
import Logging

/// Runs a `Function` as a FastCGI process: one request at a time in each of its serving
/// threads, until the web server stops it. Environment: `FLASHSALE_LISTEN` (a socket path or
/// `host:port` to listen on instead of the socket the web server passes as fd 0),
/// `FLASHSALE_MAX_BODY_BYTES` (the manifest's body cap, default 8192), `FLASHSALE_LOG` (a file
/// that takes stderr), `FLASHSALE_PROCESSES_PER_SOCKET` (how many processes share the listening
/// socket, default 1) and `FLASHSALE_THREADS` (serving threads, default 1: each accepts and
/// answers its own requests, so a request that waits, as an order waits for its group's sync,
/// holds one thread, not the process).
public enum FastCGIServer {
    public static let defaultMaxBodyBytes = 8192
    /// The most input read past what a function took (a body over its cap, say) before the
    /// answer: lighttpd's own cap is 64 KiB.
    static let skippedInputLimit = 1 << 20

    /// Serves until SIGTERM, SIGINT or SIGUSR1 (multiwatch's stop signal), then finishes the
    /// requests in hand and those already queued, and exits 0.
    public static func run(_ function: Function) -> Never {
        run(name: function.name) { function }
    }

    /// Builds the function with `make` (opening what it needs: a database, keys) once stderr
    /// goes to the log, then serves it. A failure to build is logged and exits 1.
    public static func run(name: String, _ make: () throws -> Function) -> Never {
        // Before `make`, which may already write to a server (Redis, through hiredis's write(2)):
        // a peer that reset its socket must fail the write, not kill the process.
        signal(SIGPIPE, SIG_IGN)
        // Made when called, after the log handler is installed, so the line takes the fallback too.
        let fail: @Sendable (any Error) -> Never = { error in
            Logger(label: "flashsale.\(name)").critical("\(name): \(error)")
            exit(1)
        }
        do {
            if let log = environment("FLASHSALE_LOG") {
                try redirectStandardError(to: log, name: name)
            }
            try serve(try make(), failed: fail)
            exit(0)
        } catch {
            fail(error)
        }
    }

    private static func serve(_ function: Function, failed: @escaping @Sendable (any Error) -> Never) throws {
        let rc = initializeLibfcgi()
        guard rc == 0 else { throw SystemCallError(libfcgi: "FCGX_Init", returned: rc) }
        // After FCGX_Init, which installs handlers of its own for these signals.
        signal(SIGPIPE, SIG_IGN)
        // Stop signals stay blocked except while waiting for the next connection, so one
        // never interrupts a request: reading its parameters, its body or writing its answer.
        guard flashsale_install_stop_signals() == 0 else {
            throw SystemCallError(call: "sigaction", subject: "", errno: errno)
        }
        // Handed its socket by a parent (lighttpd, multiwatch, mod_fcgid), it stops with it: SIGTERM
        // when the parent dies, kill -9 included. On FLASHSALE_LISTEN, or as a daemon leading
        // its own session (spawn-fcgi without -n), it outlives whoever started it.
        if environment("FLASHSALE_LISTEN") == nil && getsid(0) != getpid() {
            switch flashsale_set_parent_death_signal(SIGTERM) {
            case 0: break
            case 1: return  // The parent died before the signal was armed.
            default: throw SystemCallError(call: "prctl(PR_SET_PDEATHSIG)", subject: "", errno: errno)
            }
        }
        let maxBodyBytes = try bodyCap()
        let sharers = try processesPerSocket()
        let threads = try threadCount()
        let socket = try listeningSocket()
        // Started after the stop signals are blocked, so each inherits the mask.
        let others = (1..<threads).map { _ in
            ServingThread(
                { try serveRequests(function, on: socket, maxBodyBytes: maxBodyBytes, sharers: sharers) },
                failed: failed)
        }
        try serveRequests(function, on: socket, maxBodyBytes: maxBodyBytes, sharers: sharers)
        for thread in others { thread.join() }
    }

    /// One serving thread's loop: accepts and answers requests on `socket` until a stop, then
    /// answers those already queued. The first thread to see the stop shuts the socket's
    /// reading side, which refuses new connections (the web server sends them to another
    /// process) and wakes the other threads to stop too.
    private static func serveRequests(_ function: Function, on socket: Int32, maxBodyBytes: Int, sharers: Int) throws {
        let request = try FastCGIRequest(listeningOn: socket)
        // Its own netlink socket per thread: two threads' sock_diag answers must not cross.
        let queue = ListenQueue(listener: socket, sharedBy: sharers)
        let serveOne = {
            let params = request.params()
            let response = function.respond(
                to: params, maxBodyBytes: maxBodyBytes, queuedBehind: { queue?.waiting() }, readBody: request.readBody)
            request.skipRestOfInput(atMost: skippedInputLimit)
            request.write(response.cgiBytes(includeBody: params["REQUEST_METHOD"] != "HEAD"))
            request.finish()
        }
        while true {
            switch flashsale_wait_readable_or_stop(socket) {
            case 1:
                let accepted = request.accept()
                // Non-blocking: a connection that closed before it was taken, or that another
                // thread took, leaves nothing to accept.
                if accepted == -EAGAIN { continue }
                guard accepted >= 0 else { throw SystemCallError(libfcgi: "FCGX_Accept_r", returned: accepted) }
                serveOne()
            case 0:
                shutdown(socket, Int32(SHUT_RD))
                while request.accept() >= 0 {
                    serveOne()
                }
                return
            default:
                throw SystemCallError(call: "ppoll", subject: "", errno: errno)
            }
        }
    }

    /// FCGX_Init, which every use of libfcgi in a process goes through (the first call does the
    /// work): 0, or libfcgi's error. The first call reads how long a finished request's
    /// connection waits for the web server to close it (2,000 ms by default), holding the thread
    /// that long under a load the web server is slow to get round to; 0 (unless the environment
    /// says otherwise) closes once what already arrived is read.
    static func initializeLibfcgi() -> Int32 {
        setenv("LIBFCGI_OS_CLOSE_POLL_TIMEOUT", "0", 0)
        return FCGX_Init()
    }

    /// The listening socket, non-blocking so that accept(2) never waits with the stop
    /// signals blocked: libfcgi retries accept after a connection that closed early.
    private static func listeningSocket() throws -> Int32 {
        let socket: Int32
        if let address = environment("FLASHSALE_LISTEN") {
            // libfcgi reports a failed bind or listen itself (perror, then exit with errno);
            // a negative answer means the address could not be parsed or no socket was made.
            socket = FCGX_OpenSocket(address, 1024)
            guard socket >= 0 else {
                throw SystemCallError(call: "FCGX_OpenSocket", subject: address, errno: errno)
            }
        } else {
            guard FCGX_IsCGI() == 0 else {
                throw SystemCallError(
                    call: "FCGX_IsCGI",
                    subject: "stdin is not a FastCGI socket: start functions with `flashsale serve`, "
                        + "or set FLASHSALE_LISTEN", errno: ENOTSOCK)
            }
            socket = 0
        }
        let flags = fcntl(socket, F_GETFL)
        guard flags >= 0, fcntl(socket, F_SETFL, flags | O_NONBLOCK) == 0 else {
            throw SystemCallError(call: "fcntl(O_NONBLOCK)", subject: "", errno: errno)
        }
        return socket
    }

    /// `FLASHSALE_PROCESSES_PER_SOCKET`: how many processes accept from this one's socket
    /// (spawn-fcgi's scripts set it; 1 by default, as lighttpd gives each its own).
    private static func processesPerSocket() throws -> Int {
        guard let raw = environment("FLASHSALE_PROCESSES_PER_SOCKET") else { return 1 }
        guard let count = Int(raw), (1...4096).contains(count) else {
            throw SettingError("FLASHSALE_PROCESSES_PER_SOCKET=\(raw) is not a process count (1 to 4096)")
        }
        return count
    }

    /// `FLASHSALE_THREADS`: how many threads serve requests (1 by default).
    private static func threadCount() throws -> Int {
        guard let raw = environment("FLASHSALE_THREADS") else { return 1 }
        guard let count = Int(raw), (1...maxThreads).contains(count) else {
            throw SettingError("FLASHSALE_THREADS=\(raw) is not a thread count (1 to \(maxThreads))")
        }
        return count
    }

    /// The most serving threads a process runs.
    public static let maxThreads = 64

    private static func bodyCap() throws -> Int {
        guard let raw = environment("FLASHSALE_MAX_BODY_BYTES") else { return defaultMaxBodyBytes }
        guard let cap = Int(raw), (0...Int(Int32.max)).contains(cap) else {
            throw SettingError("FLASHSALE_MAX_BODY_BYTES=\(raw) is not a byte count")
        }
        return cap
    }

    /// Sends stderr to the log at `path`, and the process's log lines through a `LogSink` that
    /// gives a line the log cannot take (a full disk) to the stderr the process was started
    /// with (lighttpd's, which is `flashsale serve`'s) or to syslog. A log that cannot be
    /// created for want of space leaves stderr as it was, with a warning there: a fault, which
    /// must not stop the process; any other failure to open it is a mistake to report.
    private static func redirectStandardError(to path: String, name: String) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            let code = errno
            guard [ENOSPC, EDQUOT, EIO].contains(code) else {
                throw SystemCallError(call: "open", subject: path, errno: code)
            }
            let sink = LogSink(log: STDERR_FILENO, logName: "stderr", host: nil, ident: "flashsale-\(name)")
            sink.write(
                "\(LogSink.timestamp()) warning flashsale.\(name): cannot open \(path): \(String(cString: strerror(code))); "
                    + "logging here", priority: LOG_WARNING)
            FallbackLogHandler.bootstrap(sink)
            return
        }
        defer { close(fd) }
        let host = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3)
        guard dup2(fd, STDERR_FILENO) >= 0 else {
            if host >= 0 { close(host) }
            throw SystemCallError(call: "dup2", subject: "\(path), stderr", errno: errno)
        }
        let sink = LogSink(log: STDERR_FILENO, logName: path, host: host >= 0 ? host : nil, ident: "flashsale-\(name)")
        FallbackLogHandler.bootstrap(sink)
    }

    private static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
