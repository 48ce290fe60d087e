import CFastCGI
import Glibc

/// Runs a `Function` as a FastCGI process: one request at a time, until the web server
/// stops it. Environment: `FLASHSALE_LISTEN` (a socket path or `host:port` to listen on
/// instead of the socket the web server passes as fd 0) and `FLASHSALE_MAX_BODY_BYTES`
/// (the manifest's body cap, default 8192).
public enum FastCGIServer {
    public static let defaultMaxBodyBytes = 8192

    /// Serves until SIGTERM or SIGINT, then finishes the request in hand and exits 0.
    public static func run(_ function: Function) -> Never {
        do {
            try serve(function)
            exit(0)
        } catch {
            function.logger.critical("\(function.name): \(error)")
            exit(1)
        }
    }

    private static func serve(_ function: Function) throws {
        signal(SIGPIPE, SIG_IGN)
        for signo in [SIGTERM, SIGINT] where cfcgi_shutdown_on_signal(signo) != 0 {
            throw FastCGIError(call: "sigaction", code: -errno)
        }
        let rc = FCGX_Init()
        guard rc == 0 else { throw FastCGIError(call: "FCGX_Init", code: rc) }
        let socket = try listeningSocket(function)
        let maxBodyBytes = environment("FLASHSALE_MAX_BODY_BYTES").flatMap(Int.init) ?? defaultMaxBodyBytes
        let request = try FastCGIRequest(listeningOn: socket)
        // A stop signal may interrupt accept() (so an idle process exits at once) but never
        // the request in hand: it stays blocked until the answer is written, and is then
        // delivered, so libfcgi refuses the next accept and the loop ends.
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGTERM)
        sigaddset(&stopSignals, SIGINT)
        while true {
            pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
            let accepted = request.accept()
            pthread_sigmask(SIG_BLOCK, &stopSignals, nil)
            guard accepted else { return }
            let params = request.params()
            let response = function.respond(to: params, maxBodyBytes: maxBodyBytes, readBody: request.readBody)
            request.write(response.cgiBytes(includeBody: params["REQUEST_METHOD"] != "HEAD"))
            request.finish()
        }
    }

    private static func listeningSocket(_ function: Function) throws -> Int32 {
        if let address = environment("FLASHSALE_LISTEN") {
            let fd = FCGX_OpenSocket(address, 1024)
            guard fd >= 0 else { throw FastCGIError(call: "FCGX_OpenSocket(\(address))", code: -errno) }
            return fd
        }
        guard FCGX_IsCGI() == 0 else {
            throw FastCGIError(
                call:
                    "FCGX_IsCGI (stdin is not a FastCGI socket: start functions with `flashsale serve`, or set FLASHSALE_LISTEN)",
                code: -ENOTSOCK)
        }
        return 0
    }

    private static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
