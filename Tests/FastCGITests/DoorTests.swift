import FastCGI
import Foundation
import Synchronization
import TestSupport
import Testing

/// The order function's door (`ListenQueue.Door`) on a listening unix socket of the test's own,
/// with FastCGI clients queued on it as a web server's connections.
extension ListenQueueTests {
    final class Statuses: Sendable {
        let list = Mutex([Int]())
    }

    /// Connects `count` clients to `path`, each on a thread of its own, as a web server's
    /// connections: each sends its whole request (an empty one, which libfcgi reads without
    /// waiting), then reads its answer to the end and closes, as lighttpd does. Their statuses
    /// (0: no answer) go to `answers`.
    func queueClients(_ count: Int, at path: String, answers: Statuses) {
        for _ in 0..<count {
            Thread {
                let client = try? FastCGIClient(socketPath: path)
                try? client?.begin(params: [])
                try? client?.sendBody([])
                let status = (try? client?.readAnswer())?.status ?? 0
                answers.list.withLock { $0.append(status) }
            }.start()
        }
    }

    /// Whether `condition` holds within `seconds`, looking every 10 ms.
    func within(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            guard Date() < deadline else { return false }
            usleep(10_000)
        }
        return true
    }

    /// Stops `doors` the way a socket stops listening, before the test closes it.
    func stop(_ doors: [ListenQueue.Door], listener fd: Int32) {
        shutdown(fd, Int32(SHUT_RDWR))
        #expect(within(10) { doors.allSatisfy { !$0.isOpen } }, "a door stayed open on a socket that stopped listening")
    }

    static let answer = Array("Status: 503\r\nContent-Type: text/plain\r\n\r\nbusy".utf8)

    /// A door whose thread ends says so: the function then knows to refuse in line.
    @Test func aDoorWhoseSocketStopsListeningIsNoLongerOpen() throws {
        let directory = try TemporaryDirectory("door")
        defer { directory.remove() }
        let fd = try unixListener(at: directory.path + "/q.sock")
        defer { close(fd) }
        let door = try #require(ListenQueue.Door.open(listener: fd, limit: 1, answer: Self.answer))
        #expect(door.isOpen)
        stop([door], listener: fd)
    }

    /// Two processes on one socket (spawn-fcgi's) each have a door with the limit of both: re-
    /// reading the queue before each refusal, together they leave it that long, not empty.
    /// Each may have read the queue one above the limit just before the other took that one,
    /// so it can end one below for each door beyond the first.
    @Test func doorsSharingASocketLeaveTheirLimitWaiting() throws {
        let directory = try TemporaryDirectory("door")
        defer { directory.remove() }
        let path = directory.path + "/q.sock"
        let fd = try unixListener(at: path)
        defer { close(fd) }
        let queue = try #require(ListenQueue(listener: fd))
        let (limit, sharers, crowd) = (4, 2, 40)
        let answers = Statuses()
        queueClients(crowd, at: path, answers: answers)
        try #require(within(10) { queue.waiting() == crowd }, "\(queue.waiting() ?? -1) of \(crowd) queued")

        let doors = try (0..<sharers).map { _ in
            try #require(ListenQueue.Door.open(listener: fd, limit: limit * sharers, answer: Self.answer))
        }
        defer { stop(doors, listener: fd) }
        #expect(within(10) { (queue.waiting() ?? 0) <= limit * sharers }, "\(queue.waiting() ?? -1) still wait")
        usleep(100_000)
        let waiting = try #require(queue.waiting())
        #expect(
            (limit * sharers - (sharers - 1)...limit * sharers).contains(waiting),
            "\(sharers) doors with limit \(limit * sharers) left \(waiting) waiting")
        #expect(doors.map { $0.takeRefusals() }.reduce(0, +) == crowd - waiting)
        #expect(within(10) { answers.list.withLock { $0 } == Array(repeating: 503, count: crowd - waiting) })
    }
}
