import CProcessShims
import Foundation
import Glibc
import Synchronization

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

extension ListenQueue {
    /// The door of an overloaded function: a thread beside the one that serves, which keeps the
    /// listening socket's accept queue at most `limit` long by taking the connections beyond it
    /// (the oldest first, as accept(2) gives them) and answering each with a fixed FastCGI
    /// answer at once. A refusal then costs microseconds and waits for no request in hand, and
    /// no admitted request waits behind more than `limit` others, however large the crowd.
    ///
    /// The thread blocks every signal (the serving thread's stop signals stay its own), sleeps
    /// in poll(2) while nothing waits, looks at the queue every millisecond while something
    /// does, and ends when the socket stops listening. It shares the socket with the serving
    /// thread through non-blocking accepts: whichever takes a connection first answers it.
    public enum Door {
        private static let refused = Atomic<Int>(0)
        private static let pause = timespec(tv_sec: 0, tv_nsec: 1_000_000)

        /// Starts the door on `listener`, a listening unix socket, answering `answer` (the
        /// bytes of a CGI response: status line, headers, body) beyond `limit` waiting
        /// connections. False when `listener` is not a listening unix socket or the kernel will
        /// not tell its queue; the function then runs without a door.
        public static func open(listener: Int32, limit: Int, answer: [UInt8]) -> Bool {
            var listening: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            guard ListenQueue(listener: listener) != nil,
                getsockopt(listener, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) == 0, listening == 1,
                answer.count <= 65_535
            else { return false }
            let diagnostics = flashsale_sock_diag_open()
            guard diagnostics >= 0 else { return false }
            let flags = fcntl(listener, F_GETFL)
            guard flags >= 0, fcntl(listener, F_SETFL, flags | O_NONBLOCK) == 0 else {
                close(diagnostics)
                return false
            }
            let thread = Thread {
                var all = sigset_t()
                sigfillset(&all)
                pthread_sigmask(SIG_BLOCK, &all, nil)
                run(listener: listener, diagnostics: diagnostics, limit: limit, answer: answer)
                close(diagnostics)
            }
            thread.name = "door"
            thread.start()
            return true
        }

        /// The connections refused since the last call.
        public static func takeRefusals() -> Int { refused.exchange(0, ordering: .relaxed) }

        private static func run(listener: Int32, diagnostics: Int32, limit: Int, answer: [UInt8]) {
            var records = FastCGIRecords(answer: answer)
            while true {
                var ready = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
                if poll(&ready, 1, -1) < 0 {
                    if errno == EINTR { continue }
                    return
                }
                if ready.revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 { return }
                let waiting = flashsale_unix_listen_queue(diagnostics, listener)
                guard waiting >= 0 else { return }
                guard waiting > limit else {
                    var interval = pause
                    nanosleep(&interval, nil)
                    continue
                }
                for _ in limit..<waiting {
                    let connection = accept(listener, nil, nil)
                    guard connection >= 0 else {
                        if errno == EAGAIN || errno == ECONNABORTED || errno == EINTR { break }
                        return
                    }
                    if records.answer(connection) { refused.add(1, ordering: .relaxed) }
                    close(connection)
                }
            }
        }
    }
}

/// The door's side of one FastCGI connection: read the request to its end (the empty
/// FCGI_STDIN record), then write the fixed answer under the request's id.
private struct FastCGIRecords {
    private var reply: [UInt8]
    private var buffer = [UInt8](repeating: 0, count: 4096)
    /// How long the door waits for the rest of a request that lighttpd is still writing.
    private static let readTimeoutMs: Int32 = 50

    init(answer: [UInt8]) {
        let padding = (8 - answer.count % 8) % 8
        reply = Self.header(type: 6, length: answer.count, padding: padding) + answer
        reply += [UInt8](repeating: 0, count: padding)
        reply += Self.header(type: 6, length: 0, padding: 0)
        reply += Self.header(type: 3, length: 8, padding: 0) + [UInt8](repeating: 0, count: 8)
    }

    private static func header(type: UInt8, length: Int, padding: Int) -> [UInt8] {
        [1, type, 0, 1, UInt8(length >> 8), UInt8(length & 0xFF), UInt8(padding), 0]
    }

    /// Whether the answer went out on `connection` after its whole request came in.
    mutating func answer(_ connection: Int32) -> Bool {
        guard let id = readRequest(connection) else { return false }
        var offset = 0
        while offset < reply.count {
            reply[offset + 2] = UInt8(id >> 8)
            reply[offset + 3] = UInt8(id & 0xFF)
            offset += 8 + (Int(reply[offset + 4]) << 8 | Int(reply[offset + 5])) + Int(reply[offset + 6])
        }
        var sent = 0
        while sent < reply.count {
            let written = reply.withUnsafeBytes {
                send(connection, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if written > 0 {
                sent += written
            } else if written < 0 && errno == EAGAIN {
                var ready = pollfd(fd: connection, events: Int16(POLLOUT), revents: 0)
                guard poll(&ready, 1, Self.readTimeoutMs) > 0 else { return false }
            } else if written < 0 && errno == EINTR {
                continue
            } else {
                return false
            }
        }
        return true
    }

    /// Reads records up to the empty FCGI_STDIN; returns the request id, or nil when the
    /// connection ends or stalls first.
    private mutating func readRequest(_ connection: Int32) -> Int? {
        var header = [UInt8]()
        var skip = 0
        var id = 1
        while true {
            var ready = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, Self.readTimeoutMs) > 0 else { return nil }
            let count = buffer.withUnsafeMutableBytes {
                recv(connection, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT))
            }
            if count < 0 && (errno == EAGAIN || errno == EINTR) { continue }
            guard count > 0 else { return nil }
            var index = 0
            while index < count {
                if skip > 0 {
                    let taken = min(skip, count - index)
                    skip -= taken
                    index += taken
                    continue
                }
                header.append(buffer[index])
                index += 1
                guard header.count == 8 else { continue }
                let type = header[1]
                let length = Int(header[4]) << 8 | Int(header[5])
                if type == 1 { id = Int(header[2]) << 8 | Int(header[3]) }
                if type == 5 && length == 0 { return id }
                skip = length + Int(header[6])
                header.removeAll(keepingCapacity: true)
            }
        }
    }
}
