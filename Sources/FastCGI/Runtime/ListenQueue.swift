import CProcessShims
import Glibc

/// How many connections wait behind the request in hand: the accept-queue length of the
/// process's listening unix socket, read with sock_diag, shared out among the processes that
/// accept from it. The one owner of its netlink socket.
public final class ListenQueue: Sendable {
    private let diagnostics: Int32
    private let listener: Int32
    private let sharers: Int

    /// Nil when `listener` is not a unix socket (sock_diag answers for unix sockets here) or
    /// the netlink socket cannot be opened; a function then runs without the measurement.
    /// `sharedBy` processes accept from the socket (spawn-fcgi's shared socket; 1 under
    /// lighttpd, which gives each process its own).
    public init?(listener: Int32, sharedBy sharers: Int = 1) {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        // sockaddr_storage is large and aligned enough for any address getsockname writes.
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        guard named == 0, address.ss_family == sa_family_t(AF_UNIX) else { return nil }
        let diagnostics = flashsale_sock_diag_open()
        guard diagnostics >= 0 else { return nil }
        self.diagnostics = diagnostics
        self.listener = listener
        self.sharers = max(sharers, 1)
    }

    deinit {
        close(diagnostics)
    }

    /// This process's share of the connections waiting to be accepted (rounded up), or nil if
    /// the kernel would not say.
    public func waiting() -> Int? {
        let count = flashsale_unix_listen_queue(diagnostics, listener)
        return count >= 0 ? (Int(count) + sharers - 1) / sharers : nil
    }
}
