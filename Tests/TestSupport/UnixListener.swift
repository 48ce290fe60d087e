import Glibc

/// A listening unix stream socket bound at `path` (backlog 64); the caller closes it.
public func unixListener(at path: String) throws -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw ServeError(message: "socket(AF_UNIX): \(String(cString: strerror(errno)))") }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
    let bound = withUnsafePointer(to: &address) {
        // sockaddr_un is laid out as the sockaddr bind(2) reads through this pointer.
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
        }
    }
    guard bound == 0, listen(fd, 64) == 0 else {
        let reason = String(cString: strerror(errno))
        close(fd)
        throw ServeError(message: "bind or listen at \(path): \(reason)")
    }
    return fd
}
