import CProcessShims
import Foundation
import Synchronization

/// `serve`'s ``ConnectionLimits`` at lighttpd's door, which lighttpd 1.4.69 cannot keep itself:
/// it has no per-address cap (mod_evasive was removed in 1.4.68) and its only read timeout,
/// `server.max-read-idle`, starts again with every byte, so a header trickled a byte at a time
/// never times out. Once a second, and four times a second while it finds some to close, the
/// guard lists the port's connections with sock_diag and closes those over an address's cap
/// (the newest) and those on which nothing has been delivered for `readSeconds` (a request
/// that has not arrived whole, or a reader taking nothing). Listing costs the kernel a walk
/// of every TCP socket of the family (TIME_WAIT ones too), hence the slow pace at rest. It closes one by shutting down a copy of lighttpd's descriptor for it
/// (pidfd_getfd on lighttpd, its child): lighttpd reads the end and closes its side.
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
            log("flashsale: no connection guard (sock_diag: \(String(cString: strerror(errno))))")
            return nil
        }
        let exempt = Set(deployment.trustedProxies.compactMap(PeerAddress.init))
        let (port, pidFile) = (UInt16(deployment.port), deployment.data.lighttpdPidFile)
        // An address listens on its own family (IPv4 clients of an IPv6 listener are mapped
        // into it); a host name may resolve to either.
        let family = PeerAddress(deployment.host).map { $0.bytes.count == 4 ? AF_INET : AF_INET6 } ?? 0
        let thread = Thread { [self] in
            var door = Door(
                diagnostics: diagnostics, family: family, port: port, limits: limits, exempt: exempt,
                pidFile: pidFile, log: log)
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

/// A client address in one spelling: IPv4 as 4 bytes (IPv4-mapped IPv6 included), else 16.
struct PeerAddress: Hashable, Sendable, CustomStringConvertible {
    var bytes: [UInt8]

    init(bytes: [UInt8]) {
        let mapped = bytes.count == 16 && bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xff && bytes[11] == 0xff
        self.bytes = mapped ? Array(bytes[12...]) : bytes
    }

    /// An address as FLASHSALE_TRUSTED_PROXIES writes it; nil when it is none.
    init?(_ text: String) {
        var buffer = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET, text, &buffer) == 1 {
            self.init(bytes: Array(buffer[0..<4]))
        } else if inet_pton(AF_INET6, text.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), &buffer) == 1 {
            self.init(bytes: buffer)
        } else {
            return nil
        }
    }

    var description: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        _ = inet_ntop(family, bytes, &text, socklen_t(text.count))
        return String(cString: text)
    }
}

/// The guard thread's own state: only that thread touches it.
private struct Door {
    /// What the guard remembers of one connection, by its socket's inode.
    struct Seen {
        var address: PeerAddress
        var since: ContinuousClock.Instant
        var acked: UInt64
        var progressed: ContinuousClock.Instant
    }

    let diagnostics: Int32
    let family: Int32
    let port: UInt16
    let limits: ConnectionLimits
    let exempt: Set<PeerAddress>
    let pidFile: String
    let log: @Sendable (String) -> Void
    var seen: [UInt32: Seen] = [:]
    var room = 1024
    var lighttpd: (pid: pid_t, pidfd: Int32)?
    var overCap = 0
    var stalled = 0
    var busiest: (address: PeerAddress, count: Int)?
    /// Whether pidfd_getfd was refused (said once).
    var refused = false

    init(
        diagnostics: Int32, family: Int32, port: UInt16, limits: ConnectionLimits, exempt: Set<PeerAddress>,
        pidFile: String, log: @escaping @Sendable (String) -> Void
    ) {
        self.diagnostics = diagnostics
        self.family = family
        self.port = port
        self.limits = limits
        self.exempt = exempt
        self.pidFile = pidFile
        self.log = log
    }

    /// Lists the connections, then closes those over a cap or stalled; whether it closed any.
    mutating func poll() -> Bool {
        guard let connections = list() else { return false }
        let now = ContinuousClock.now
        var next: [UInt32: Seen] = [:]
        for connection in connections where connection.inode != 0 {
            let address = withUnsafeBytes(of: connection.address) { raw in
                PeerAddress(bytes: Array(raw.prefix(connection.family == AF_INET ? 4 : 16)))
            }
            var entry = seen[connection.inode] ?? Seen(address: address, since: now, acked: 0, progressed: now)
            if entry.acked != connection.bytes_acked {
                entry.acked = connection.bytes_acked
                entry.progressed = now
            }
            next[connection.inode] = entry
        }
        seen = next
        var doomed: Set<UInt32> = []
        if limits.readSeconds > 0 {
            let stale = seen.filter { now - $0.value.progressed > .seconds(limits.readSeconds) }.keys
            stalled += stale.count
            doomed.formUnion(stale)
        }
        if limits.capsAddresses {
            let byAddress = Dictionary(grouping: seen.filter { !doomed.contains($0.key) }, by: \.value.address)
            for (address, held) in byAddress where held.count > limits.perAddress && !exempt.contains(address) {
                let newest = held.sorted { ($0.value.since, $0.key) > ($1.value.since, $1.key) }
                doomed.formUnion(newest.prefix(held.count - limits.perAddress).map(\.key))
                overCap += held.count - limits.perAddress
                if held.count > busiest?.count ?? 0 { busiest = (address, held.count) }
            }
        }
        if !doomed.isEmpty { shut(doomed) }
        return !doomed.isEmpty
    }

    /// The port's connections, or nil when sock_diag fails.
    mutating func list() -> [flashsale_tcp_connection]? {
        while true {
            var connections = [flashsale_tcp_connection](repeating: flashsale_tcp_connection(), count: room)
            let count = flashsale_tcp_connections(diagnostics, family, port, &connections, room)
            guard count >= 0 else { return nil }
            if count <= room { return Array(connections.prefix(count)) }
            room = count * 2
        }
    }

    /// Shuts down lighttpd's sockets with these inodes, found among its descriptors.
    mutating func shut(_ inodes: Set<UInt32>) {
        guard let pidfd = lighttpdDescriptor() else { return }
        let folder = "/proc/\(lighttpd?.pid ?? 0)/fd"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(folder)/\(name)"),
                target.hasPrefix("socket:["), let inode = UInt32(target.dropFirst(8).dropLast()),
                inodes.contains(inode), let fd = Int32(name)
            else { continue }
            let copy = flashsale_pidfd_getfd(pidfd, fd)
            guard copy >= 0 else {
                if errno == EPERM && !refused {
                    refused = true
                    log("flashsale: the connection guard may not reach lighttpd's connections (pidfd_getfd: EPERM)")
                }
                continue
            }
            var status = stat()
            // The number may have been closed and reused since it was read: shut only the socket meant.
            if fstat(copy, &status) == 0 && status.st_ino == UInt(inode) {
                shutdown(copy, Int32(SHUT_RDWR))
                seen[inode] = nil
            }
            Glibc.close(copy)
        }
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
        guard pidfd >= 0 else { return nil }
        lighttpd = (pid, pidfd)
        return pidfd
    }

    /// One line for what was closed since the last.
    mutating func logClosings() {
        guard overCap + stalled > 0 else { return }
        var line = "flashsale: closed \(overCap) connections over \(limits.perAddress) per address"
        if let busiest { line += " (\(busiest.address) held \(busiest.count))" }
        line += " and \(stalled) with no whole request or answer in \(limits.readSeconds) s"
        log(line)
        (overCap, stalled, busiest) = (0, 0, nil)
    }

    func close() {
        Glibc.close(diagnostics)
        if let lighttpd { Glibc.close(lighttpd.pidfd) }
    }
}
