import CFastCGI
import CProcessShims
import Foundation
import Glibc
import Logging
import Synchronization

extension ListenQueue {
    /// The door of an overloaded function: a thread beside the one that serves, which keeps the
    /// listening socket's accept queue at most `limit` long by taking the connections beyond it
    /// (the oldest first, as accept(2) gives them: under overload the newest are the likeliest
    /// still to be waited for) and answering each with a fixed answer through libfcgi at once.
    /// A refusal then waits for no request in hand, and no admitted request waits behind more
    /// than `limit` others, however large the crowd.
    ///
    /// The thread blocks every signal (the serving thread's stop signals stay its own), sleeps
    /// in poll(2) while nothing waits, and looks at the queue while something does: every
    /// millisecond while more than half the limit waits, less often (up to every
    /// ``longestPauseMs`` (8 ms)) while the queue stays shorter, which is most of the time under a
    /// steady load: each look costs a wake-up and a sock_diag query, and the processes' doors
    /// together took a tenth of the order path's CPU looking every millisecond. It ends when
    /// the socket stops listening. It shares the non-blocking socket with
    /// the serving thread: whichever accepts a connection first answers it. When the thread
    /// ends, for whatever reason, the door says so once in the log and `isOpen` turns false,
    /// so that the function can refuse in line instead.
    public final class Door: Sendable {
        /// The longest the door sleeps between looks while at most half its limit waits: a
        /// crowd arriving faster than the process serves can overfill the queue only by what
        /// arrives in that time, once.
        static let longestPauseMs = 8

        private let refused = Mutex(0)
        private let opened = Mutex(true)

        private init() {}

        /// Starts the door on `listener`, a listening unix socket, answering `answer` (the bytes
        /// of a CGI response: status line, headers, body) beyond `limit` waiting connections.
        /// Nil when `listener` is not a listening unix socket, the kernel will not tell its
        /// queue or libfcgi cannot start; the function then runs without a door.
        public static func open(listener: Int32, limit: Int, answer: [UInt8]) -> Door? {
            var listening: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(listener, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) == 0, listening == 1,
                let queue = ListenQueue(listener: listener),
                // Here, before the thread starts: FCGX_Init is not safe to call from two threads at once.
                FastCGIServer.initializeLibfcgi() == 0
            else { return nil }
            let flags = fcntl(listener, F_GETFL)
            guard flags >= 0, fcntl(listener, F_SETFL, flags | O_NONBLOCK) == 0 else { return nil }
            let door = Door()
            let thread = Thread {
                var all = sigset_t()
                sigfillset(&all)
                pthread_sigmask(SIG_BLOCK, &all, nil)
                let why: String
                do {
                    // The door's own request, separate from the serving thread's, as libfcgi's _r calls allow.
                    let request = try FastCGIRequest(listeningOn: listener)
                    why = door.run(queue: queue, listener: listener, request: request, limit: limit, answer: answer)
                } catch {
                    why = "\(error)"
                }
                door.opened.withLock { $0 = false }
                Logger(label: "flashsale.door").error(
                    "the door closed (\(why)); the function refuses beyond the queue limit in line from now on")
            }
            thread.name = "door"
            thread.start()
            return door
        }

        /// Whether the door's thread still keeps the queue; false once it has ended.
        public var isOpen: Bool { opened.withLock { $0 } }

        /// The connections refused since the last call.
        public func takeRefusals() -> Int {
            refused.withLock { count in
                defer { count = 0 }
                return count
            }
        }

        /// Keeps the queue until the socket or the kernel fails it; returns why it stopped.
        private func run(
            queue: ListenQueue, listener: Int32, request: FastCGIRequest, limit: Int, answer: [UInt8]
        ) -> String {
            var pauseMs = 1
            while true {
                var ready = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
                if poll(&ready, 1, -1) < 0 {
                    if errno == EINTR { continue }
                    return "poll: \(String(cString: strerror(errno)))"
                }
                if ready.revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 {
                    return "the socket stopped listening (poll revents \(ready.revents))"
                }
                // Read again before each accept: the serving thread and, on a socket shared by
                // several processes, their doors take from the same queue meanwhile.
                var waiting = queue.waiting()
                while let count = waiting, count > limit {
                    // Non-blocking: the serving thread may have taken the connection first.
                    guard request.accept() >= 0 else { break }
                    // Not read to its end, unlike an answered request: a refusal must not wait on
                    // a slow sender. The close reads what has arrived, which from a web server
                    // that wrote the request before it was accepted from the queue is all of it.
                    request.write(answer)
                    request.finish()
                    refused.withLock { $0 += 1 }
                    waiting = queue.waiting()
                }
                guard let count = waiting else { return "sock_diag no longer tells the accept queue" }
                pauseMs = count > limit / 2 ? 1 : min(pauseMs * 2, Self.longestPauseMs)
                var pause = timespec(tv_sec: 0, tv_nsec: pauseMs * 1_000_000)
                nanosleep(&pause, nil)
            }
        }
    }
}
