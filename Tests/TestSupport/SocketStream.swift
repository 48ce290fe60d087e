import Foundation

/// A connected blocking socket for test clients, with a receive timeout so a test never hangs.
public final class SocketStream {
    private var fd: Int32

    /// Connects to a unix socket path.
    public init(unixPath: String, timeoutSeconds: Int = 10) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: unixPath.utf8.prefix(raw.count - 1))
        }
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try finishConnect(connected, timeoutSeconds: timeoutSeconds)
    }

    /// Connects to a numeric IPv4 or IPv6 address and port.
    public init(host: String = "127.0.0.1", port: Int, timeoutSeconds: Int = 10) throws {
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &found) == 0, let address = found?.pointee else {
            throw POSIXError(.EINVAL)
        }
        defer { freeaddrinfo(found) }
        fd = socket(address.ai_family, address.ai_socktype, 0)
        try finishConnect(connect(fd, address.ai_addr, address.ai_addrlen), timeoutSeconds: timeoutSeconds)
    }

    deinit {
        close()
    }

    /// Closes the connection; the peer sees end-of-file at once.
    public func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }

    private func finishConnect(_ result: Int32, timeoutSeconds: Int) throws {
        guard result == 0 else {
            let error = POSIXError(.init(rawValue: errno) ?? .EIO)
            close()
            throw error
        }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    public func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
            offset += n
        }
    }

    /// Reads what has arrived, waiting for at least one byte; empty at end-of-file.
    public func read(atMost count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        return Array(buffer[..<n])
    }

    /// Reads until the peer closes; throws on timeout.
    public func readToEnd() throws -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return result }
            guard n > 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
            result += buffer[..<n]
        }
    }
}
