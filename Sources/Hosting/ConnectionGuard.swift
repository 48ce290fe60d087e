import CProcessShims
import FastCGI
import Foundation
import Synchronization

/// `serve`'s ``ConnectionLimits`` at lighttpd's door, which lighttpd 1.4.69 cannot keep itself:
/// it has no per-address cap (mod_evasive was removed in 1.4.68) and its only read timeout,
/// `server.max-read-idle`, starts again with every byte, so a header trickled a byte at a time
/// never times out. Once a second, and four times a second while it is closing some, the
/// guard lists the port's connections with sock_diag and closes those over a subscriber's cap
/// (the newest) and those still sending a request unanswered after `readSeconds`
/// (``ConnectionLedger``). Listing costs the kernel a walk of every TCP socket of the family
/// (TIME_WAIT ones too), hence the slow pace at rest. It closes a connection by resetting a
/// copy of lighttpd's descriptor for it (pidfd_getfd on lighttpd, its child): lighttpd reads
/// the end and closes its side, which then sends a reset and leaves no TIME_WAIT behind.
public final class ConnectionGuard: Sendable {
    /// Seconds between listings at rest, and while connections are being closed.
    static let (restSeconds, closingSeconds) = (1.0, 0.25)
    /// Closings are summed up in one log line at most this often.
    static let logInterval = Duration.seconds(10)

    private let stopping = Mutex(false)
    private let finished = DispatchSemaphore(value: 0)

    /// Starts guarding `deployment`'s port for the lighttpd whose pid its pid file holds (read
    /// again when lighttpd restarts); nil when the caps are off or sock_diag cannot be opened.
    public init?(deployment: Deployment, log: @escaping @Sendable (String) -> Void) {
        let limits = deployment.connections
        guard limits.capsAddresses || limits.readSeconds > 0 else { return nil }
        let diagnostics = flashsale_sock_diag_open()
        guard diagnostics >= 0 else {
            let error = errno
            log("flashsale: no connection guard (sock_diag: \(String(cString: strerror(error))), errno \(error))")
            return nil
        }
        let exempt = Set(deployment.trustedProxies)
        let (port, pidFile) = (UInt16(deployment.port), deployment.data.lighttpdPidFile)
        // An address listens on its own family (IPv4 clients of an IPv6 listener are mapped
        // into it); a host name may resolve to either.
        let family = NetworkAddress(deployment.host).map { $0.isIPv4 ? AF_INET : AF_INET6 } ?? 0
        let thread = Thread { [self] in
            var door = Door(
                diagnostics: diagnostics, family: family, port: port,
                ledger: ConnectionLedger(limits: limits, exempt: exempt), pidFile: pidFile, log: log)
            var lastLog = ContinuousClock.now
            while !stopping.withLock({ $0 }) {
                let closing = door.poll()
                if ContinuousClock.now - lastLog >= Self.logInterval {
                    door.logClosings()
                    lastLog = .now
                }
                Thread.sleep(forTimeInterval: closing ? Self.closingSeconds : Self.restSeconds)
            }
            door.logClosings()
            door.close()
            finished.signal()
        }
        thread.name = "connection guard"
        thread.start()
    }

    /// Stops the guard and waits for its thread to end.
    public func stop() {
        stopping.withLock { $0 = true }
        finished.wait()
    }
}

/// The guard thread's own state: only that thread touches it.
private struct Door {
    let diagnostics: Int32
    let family: Int32
    let port: UInt16
    var ledger: ConnectionLedger
    let pidFile: String
    let log: @Sendable (String) -> Void
    var room = 1024
    var lighttpd: (pid: pid_t, pidfd: Int32)?
    /// Connections closed since the last log line, and the busiest subscriber among them.
    var overCap = 0
    var stalled = 0
    var busiest: (subscriber: String, count: Int)?
    /// The failures already logged, by call and errno: each is said once.
    var reported: Set<String> = []

    init(
        diagnostics: Int32, family: Int32, port: UInt16, ledger: ConnectionLedger, pidFile: String,
        log: @escaping @Sendable (String) -> Void
    ) {
        self.diagnostics = diagnostics
        self.family = family
        self.port = port
        self.ledger = ledger
        self.pidFile = pidFile
        self.log = log
    }

    /// Lists the connections and closes those the ledger condemns; whether it closed any.
    mutating func poll() -> Bool {
        guard let connections = list() else { return false }
        let verdict = ledger.observe(
            connections.compactMap { connection in
                withUnsafeBytes(of: connection.address) { raw in
                    NetworkAddress(bytes: raw.prefix(connection.family == AF_INET ? 4 : 16))
                }.map {
                    ConnectionLedger.Connection(
                        inode: connection.inode, address: $0, received: connection.bytes_received,
                        acked: connection.bytes_acked)
                }
            }, at: .now)
        let condemned = verdict.all
        guard !condemned.isEmpty else { return false }
        let closed = shut(condemned)
        stalled += verdict.stalled.intersection(closed).count
        overCap += verdict.overCap.intersection(closed).count
        if let most = verdict.busiest, !verdict.overCap.isDisjoint(with: closed), most.count > busiest?.count ?? 0 {
            busiest = most
        }
        return !closed.isEmpty
    }

    /// The port's connections, or nil when sock_diag fails.
    mutating func list() -> [flashsale_tcp_connection]? {
        while true {
            var connections = [flashsale_tcp_connection](repeating: flashsale_tcp_connection(), count: room)
            let count = flashsale_tcp_connections(diagnostics, family, port, &connections, room)
            guard count >= 0 else {
                report("sock_diag", Int32(-count), "no connection is listed while it fails")
                return nil
            }
            if count <= room { return Array(connections.prefix(count)) }
            room = count * 2
        }
    }

    /// Resets lighttpd's sockets with these inodes, found among its descriptors; those it reset.
    mutating func shut(_ inodes: Set<UInt32>) -> Set<UInt32> {
        guard let pidfd = lighttpdDescriptor() else { return [] }
        var closed: Set<UInt32> = []
        let folder = "/proc/\(lighttpd?.pid ?? 0)/fd"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(folder)/\(name)"),
                target.hasPrefix("socket:["), let inode = UInt32(target.dropFirst(8).dropLast()),
                inodes.contains(inode), let fd = Int32(name)
            else { continue }
            let copy = flashsale_pidfd_getfd(pidfd, fd)
            guard copy >= 0 else {
                // EBADF: lighttpd closed it since the folder was read.
                if errno != EBADF { report("pidfd_getfd", errno, "lighttpd's connections cannot be closed") }
                continue
            }
            defer { Glibc.close(copy) }
            var status = stat()
            // The number may have been closed and reused since it was read: shut only the socket meant.
            guard fstat(copy, &status) == 0, status.st_ino == UInt(inode) else { continue }
            // Linger 0: lighttpd's close, the last, resets the connection rather than keep it in TIME_WAIT.
            var reset = linger(l_onoff: 1, l_linger: 0)
            setsockopt(copy, SOL_SOCKET, SO_LINGER, &reset, socklen_t(MemoryLayout<linger>.size))
            guard shutdown(copy, Int32(SHUT_RDWR)) == 0 || errno == ENOTCONN else {
                report("shutdown", errno, "a connection could not be closed")
                continue
            }
            ledger.forget(inode)
            closed.insert(inode)
        }
        return closed
    }

    /// A pidfd for the lighttpd its pid file names, opened again when that changes.
    mutating func lighttpdDescriptor() -> Int32? {
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return nil }
        if let lighttpd, lighttpd.pid == pid { return lighttpd.pidfd }
        if let lighttpd { Glibc.close(lighttpd.pidfd) }
        lighttpd = nil
        let pidfd = flashsale_pidfd_open(pid)
        guard pidfd >= 0 else {
            report("pidfd_open", errno, "lighttpd's connections cannot be closed")
            return nil
        }
        lighttpd = (pid, pidfd)
        return pidfd
    }

    /// Logs that `call` failed with `error`, and what follows, the first time it does so.
    mutating func report(_ call: String, _ error: Int32, _ consequence: String) {
        guard reported.insert("\(call) \(error)").inserted else { return }
        let reason = "\(String(cString: strerror(error))) (errno \(error))"
        log("flashsale: connection guard: \(call) failed: \(reason); \(consequence)")
    }

    /// One line for what was closed since the last.
    mutating func logClosings() {
        guard overCap + stalled > 0 else { return }
        let limits = ledger.limits
        var line = "flashsale: closed \(overCap) connections over \(limits.perAddress) per address"
        if let busiest { line += " (\(busiest.subscriber) held \(busiest.count))" }
        line += " and \(stalled) still sending a request unanswered after \(limits.readSeconds) s"
        log(line)
        (overCap, stalled, busiest) = (0, 0, nil)
    }

    func close() {
        Glibc.close(diagnostics)
        if let lighttpd { Glibc.close(lighttpd.pidfd) }
    }
}
