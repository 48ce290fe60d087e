import FastCGI
import Foundation
import TestSupport
import Testing

@Suite struct ListenQueueTests {
    /// A listening unix socket at a fresh path; the caller closes it.
    func listener(at path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(fd >= 0 && bound == 0 && listen(fd, 64) == 0)
        return fd
    }

    @Test func itCountsTheConnectionsWaitingToBeAccepted() throws {
        let directory = try TemporaryDirectory("queue")
        defer { directory.remove() }
        let path = directory.path + "/q.sock"
        let fd = try listener(at: path)
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
        let fd = try listener(at: path)
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
