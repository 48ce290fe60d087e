import Glibc

/// Tells, before lighttpd starts, whether the address to serve on can be bound.
enum PortCheck {
    static func ensureFree(host: String, port: Int) throws(HostingError) {
        guard (1...65535).contains(port) else { throw HostingError("port \(port) is not between 1 and 65535") }
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &found) == 0, let address = found else {
            throw HostingError("--host \(host) is not a numeric IPv4 or IPv6 address")
        }
        defer { freeaddrinfo(found) }
        let fd = socket(address.pointee.ai_family, address.pointee.ai_socktype, 0)
        guard fd >= 0 else { throw HostingError("cannot open a socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 else {
            let reason =
                errno == EADDRINUSE ? "is already in use" : "cannot be bound: \(String(cString: strerror(errno)))"
            throw HostingError("port \(port) on \(host) \(reason)")
        }
    }
}
