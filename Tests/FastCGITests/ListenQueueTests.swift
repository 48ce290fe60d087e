import FastCGI
import Foundation
import TestSupport
import Testing

@Suite struct ListenQueueTests {
    @Test func itCountsTheConnectionsWaitingToBeAccepted() throws {
        let directory = try TemporaryDirectory("queue")
        defer { directory.remove() }
        let path = directory.path + "/q.sock"
        let fd = try unixListener(at: path)
        defer { close(fd) }
        let queue = try #require(ListenQueue(listener: fd))
        #expect(queue.waiting() == 0)

        let clients = try (1...3).map { _ in try SocketStream(unixPath: path) }
        #expect(queue.waiting() == 3)
        let accepted = accept(fd, nil, nil)
        #expect(accepted >= 0 && queue.waiting() == 2)
        close(accepted)
        _ = clients
    }

    /// Processes sharing one socket (spawn-fcgi's) each count their share, rounded up, as if
    /// each had its own socket as under lighttpd.
    @Test func processesSharingASocketEachCountTheirShare() throws {
        let directory = try TemporaryDirectory("queue")
        defer { directory.remove() }
        let path = directory.path + "/q.sock"
        let fd = try unixListener(at: path)
        defer { close(fd) }
        let queue = try #require(ListenQueue(listener: fd, sharedBy: 4))
        #expect(queue.waiting() == 0)
        let clients = try (1...9).map { _ in try SocketStream(unixPath: path) }
        #expect(queue.waiting() == 3)
        _ = clients
    }

    @Test func aTCPListenerHasNoMeasurement() throws {
        let holder = try PortHolder()
        #expect(ListenQueue(listener: holder.descriptor) == nil)
    }
}
