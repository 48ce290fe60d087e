import Foundation

/// Many TCP connections from one loopback source address that start a request and never
/// finish it: the client that tries to hold a server's door. Closes what is left on deinit.
public final class SlowClients {
    private var sockets: [Int32] = []
    /// How many the server has closed (an end of file, a reset or a hang-up seen).
    public private(set) var closed = 0

    /// Opens `count` non-blocking connections from `source` to `host`:`port` (both IPv4 or
    /// both IPv6), raising this process's open-file limit as needed, and waits (up to
    /// `seconds`) for them to connect.
    public init(count: Int, from source: String, to host: String = "127.0.0.1", port: Int, within seconds: Double = 30)
        throws
    {
        try Self.allowOpenFiles(count + 1024)
        let local = try Self.socketAddress(source, port: 0)
        let remote = try Self.socketAddress(host, port: port)
        for _ in 0..<count {
            let fd = socket(
                Int32(local.family), Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            sockets.append(fd)
            // sockaddr_storage holds the sockaddr_in or sockaddr_in6 that bind and connect read as sockaddr.
            let bound = withUnsafeBytes(of: local.storage) {
                bind(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), local.length)
            }
            let connected = withUnsafeBytes(of: remote.storage) {
                connect(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), remote.length)
            }
            guard bound == 0, connected == 0 || errno == EINPROGRESS else {
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
        }
        let deadline = Date().addingTimeInterval(seconds)
        var pending = sockets
        while !pending.isEmpty {
            guard Date() < deadline else { throw POSIXError(.ETIMEDOUT) }
            var polled = pending.map { pollfd(fd: $0, events: Int16(POLLOUT), revents: 0) }
            _ = poll(&polled, nfds_t(polled.count), 100)
            for entry in polled where entry.revents != 0 {
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(entry.fd, SOL_SOCKET, SO_ERROR, &error, &length)
                guard error == 0 else { throw POSIXError(POSIXErrorCode(rawValue: error) ?? .EIO) }
            }
            pending = polled.filter { $0.revents == 0 }.map(\.fd)
        }
    }

    deinit {
        sockets.forEach { _ = close($0) }
    }

    /// How many are still open; those the server has closed are closed here too and counted.
    public func stillOpen() -> Int {
        var polled = sockets.map { pollfd(fd: $0, events: Int16(POLLIN) | peerHungUp, revents: 0) }
        _ = poll(&polled, nfds_t(polled.count), 0)
        let ended = Int16(POLLIN) | peerHungUp | Int16(POLLHUP) | Int16(POLLERR)
        for entry in polled where entry.revents & ended != 0 {
            close(entry.fd)
            closed += 1
        }
        sockets = polled.filter { $0.revents & ended == 0 }.map(\.fd)
        return sockets.count
    }

    /// Sends `bytes` on every open connection (a reset one is left for `stillOpen` to count).
    public func send(_ bytes: String) {
        for fd in sockets {
            _ = bytes.withCString { Glibc.send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        }
    }

    /// A socket address for `address` (IPv4 or IPv6) and `port`, as bind and connect take it.
    static func socketAddress(_ address: String, port: Int) throws -> (
        storage: sockaddr_storage, length: socklen_t, family: sa_family_t
    ) {
        var storage = sockaddr_storage()
        let portBytes = in_port_t(UInt16(port).bigEndian)
        let parsed = withUnsafeMutableBytes(of: &storage) { raw -> (socklen_t, sa_family_t)? in
            if address.contains(":") {
                var ipv6 = sockaddr_in6()
                ipv6.sin6_family = sa_family_t(AF_INET6)
                ipv6.sin6_port = portBytes
                guard inet_pton(AF_INET6, address, &ipv6.sin6_addr) == 1 else { return nil }
                withUnsafeBytes(of: ipv6) { raw.copyMemory(from: $0) }
                return (socklen_t(MemoryLayout<sockaddr_in6>.size), sa_family_t(AF_INET6))
            }
            var ipv4 = sockaddr_in()
            ipv4.sin_family = sa_family_t(AF_INET)
            ipv4.sin_port = portBytes
            guard inet_pton(AF_INET, address, &ipv4.sin_addr) == 1 else { return nil }
            withUnsafeBytes(of: ipv4) { raw.copyMemory(from: $0) }
            return (socklen_t(MemoryLayout<sockaddr_in>.size), sa_family_t(AF_INET))
        }
        guard let (length, family) = parsed else { throw POSIXError(.EINVAL) }
        return (storage, length, family)
    }

    /// Raises this process's soft limit on open files to at least `wanted` (to the hard limit,
    /// raised too when the process may).
    static func allowOpenFiles(_ wanted: Int) throws {
        var limit = rlimit()
        getrlimit(openFiles, &limit)
        guard limit.rlim_cur < rlim_t(wanted) else { return }
        limit.rlim_cur = rlim_t(wanted)
        limit.rlim_max = max(limit.rlim_max, rlim_t(wanted))
        guard setrlimit(openFiles, &limit) == 0 else { throw POSIXError(.EMFILE) }
    }
}

/// POLLRDHUP: the peer closed its end (a GNU constant Swift's Glibc does not import).
private let peerHungUp: Int16 = 0x2000

/// RLIMIT_NOFILE as Glibc's setrlimit takes it.
private let openFiles = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)

extension SocketStream {
    /// Reads one answer on a kept-alive connection, as long as its Content-Length says;
    /// throws if the connection ends first or the stream's timeout passes.
    public func readAnswer() throws -> HTTPAnswer {
        var raw: [UInt8] = []
        while true {
            if let answer = try? HTTPAnswer(raw: raw), let length = answer.headers["content-length"].flatMap(Int.init),
                answer.body.count >= length
            {
                return answer
            }
            let more = try read(atMost: 65_536)
            guard !more.isEmpty else { throw POSIXError(.ECONNRESET) }
            raw += more
        }
    }
}
