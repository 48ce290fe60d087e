import CFastCGI
import CProcessShims
import Foundation
import Glibc
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
    /// in poll(2) while nothing waits, looks at the queue every millisecond while something
    /// does, and ends when the socket stops listening. It shares the non-blocking socket with
    /// the serving thread: whichever accepts a connection first answers it.
    public enum Door {
        private static let refused = Mutex(0)

        /// Starts the door on `listener`, a listening unix socket, answering `answer` (the bytes
        /// of a CGI response: status line, headers, body) beyond `limit` waiting connections.
        /// False when `listener` is not a listening unix socket, the kernel will not tell its
        /// queue or libfcgi cannot start; the function then runs without a door.
        public static func open(listener: Int32, limit: Int, answer: [UInt8]) -> Bool {
            var listening: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(listener, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) == 0, listening == 1,
                let queue = ListenQueue(listener: listener),
                // Here, before the thread starts: FCGX_Init is not safe to call from two threads at once.
                FCGX_Init() == 0
            else { return false }
            let flags = fcntl(listener, F_GETFL)
            guard flags >= 0, fcntl(listener, F_SETFL, flags | O_NONBLOCK) == 0 else { return false }
            let thread = Thread {
                var all = sigset_t()
                sigfillset(&all)
                pthread_sigmask(SIG_BLOCK, &all, nil)
                // The door's own request, separate from the serving thread's, as libfcgi's _r calls allow.
                guard let request = try? FastCGIRequest(listeningOn: listener) else { return }
                run(queue: queue, listener: listener, request: request, limit: limit, answer: answer)
            }
            thread.name = "door"
            thread.start()
            return true
        }

        /// The connections refused since the last call.
        public static func takeRefusals() -> Int {
            refused.withLock { count in
                defer { count = 0 }
                return count
            }
        }

        private static func run(
            queue: ListenQueue, listener: Int32, request: FastCGIRequest, limit: Int, answer: [UInt8]
        ) {
            var pause = timespec(tv_sec: 0, tv_nsec: 1_000_000)
            while true {
                var ready = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
                if poll(&ready, 1, -1) < 0 {
                    if errno == EINTR { continue }
                    return
                }
                if ready.revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 { return }
                guard let waiting = queue.waiting() else { return }
                guard waiting > limit else {
                    nanosleep(&pause, nil)
                    continue
                }
                for _ in limit..<waiting {
                    // Non-blocking: the serving thread may have taken the connection first.
                    guard request.accept() >= 0 else { break }
                    request.write(answer)
                    request.finish()
                    refused.withLock { $0 += 1 }
                }
            }
        }
    }
}
