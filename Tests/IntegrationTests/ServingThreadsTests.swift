import Basics
import Foundation
import Hosting
import Synchronization
import TestSupport
import Testing

/// A real function serving on several threads (`FLASHSALE_THREADS`), spoken to over FastCGI
/// directly: a request that stalls holds its thread, not the process, and a stop still answers
/// every request in hand and queued.
@Suite struct ServingThreadsTests {
    static let get: [String: String] = [
        "REQUEST_METHOD": "GET", "REQUEST_URI": "/api/noop", "REMOTE_ADDR": "127.0.0.1",
    ]
    static let params = get.sorted { $0.key < $1.key }.map { ($0.key, Array($0.value.utf8)) }

    static func noop(threads: Int) throws -> FunctionProcess {
        try FunctionProcess("noop", environment: ["FLASHSALE_THREADS": String(threads)])
    }

    /// A client that sends only its begin-request record: the thread that accepts it sleeps
    /// reading the parameters until `finish`. (It is not silent, so libfcgi keeps it past 2 s.)
    static func stalledClient(_ function: FunctionProcess) throws -> FastCGIClient {
        let client = try FastCGIClient(socketPath: function.socketPath)
        try client.sendBeginRequest()
        return client
    }

    /// Sends the rest of a stalled request; the answer's status.
    static func finish(_ client: FastCGIClient) throws -> Int {
        try client.sendParams(params)
        try client.sendBody([])
        return try client.readAnswer().status
    }

    /// With four threads, three stalled requests leave one to answer; with one thread (the
    /// control), a stalled request holds back the next until it ends.
    @Test func aStalledRequestHoldsOneThreadNotTheProcess() throws {
        let one = try Self.noop(threads: 1)
        let holding = try Self.stalledClient(one)
        try #require(eventually { one.threadsReading == 1 })
        let held = try AwaitedAnswer(socketPath: one.socketPath)
        #expect(held.status(within: 0.5) == nil)
        #expect(try Self.finish(holding) == 200)
        #expect(held.status(within: 10) == 200)

        let four = try Self.noop(threads: 4)
        let stalled = try (0..<3).map { _ in try Self.stalledClient(four) }
        try #require(eventually { four.threadsReading == 3 })
        #expect(try AwaitedAnswer(socketPath: four.socketPath).status(within: 5) == 200)
        for client in stalled {
            #expect(try Self.finish(client) == 200)
        }
        #expect(four.isRunning)
    }

    /// SIGTERM while every thread waits for the rest of its request and more wait in the
    /// queue: the stop lands when a thread comes free, which refuses new connections, and
    /// every request in hand or queued is answered before the process exits.
    @Test func aStopWithEveryThreadBusyAnswersEveryRequestInHandAndQueuedThenExits() throws {
        let function = try Self.noop(threads: 4)
        let stalled = try (0..<4).map { _ in try Self.stalledClient(function) }
        try #require(eventually { function.threadsReading == 4 })
        let queued = try (0..<10).map { _ in
            let client = try FastCGIClient(socketPath: function.socketPath)
            try client.begin(params: Self.params)
            try client.sendBody([])
            return client
        }
        function.process.signal(SIGTERM)
        for client in stalled.dropLast() {
            #expect(try Self.finish(client) == 200)
        }
        for client in queued {
            #expect(try client.readAnswer().status == 200)
        }
        // The last stalled request still holds a thread, so the process runs; its listener is shut.
        #expect(function.isRunning)
        #expect(throws: POSIXError(.ECONNREFUSED)) { try SocketStream(unixPath: function.socketPath) }
        #expect(try Self.finish(stalled[3]) == 200)
        #expect(function.waitForExit() == 0)
    }

    /// A stop signal taken by one idle thread ends the other idle ones too, while the busy one
    /// finishes its request before the process exits.
    @Test(arguments: [SIGTERM, SIGINT, SIGUSR1])
    func aStopWithSomeThreadsIdleEndsThemAndFinishesTheRequestInHand(_ signo: Int32) throws {
        let function = try Self.noop(threads: 4)
        let stalled = try Self.stalledClient(function)
        try #require(eventually { function.threadsReading == 1 && function.threadsPolling == 3 })
        function.process.signal(signo)
        #expect(eventually { function.threadsPolling == 0 })
        #expect(function.isRunning)
        #expect(throws: POSIXError(.ECONNREFUSED)) { try SocketStream(unixPath: function.socketPath) }
        #expect(try Self.finish(stalled) == 200)
        #expect(function.waitForExit() == 0)
    }

    @Test(arguments: ["0", "65", "lots"])
    func aBadThreadCountStopsTheFunctionWithAClearLog(_ threads: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let environment = [
            "FLASHSALE_LISTEN": directory.path + "/noop.sock", "FLASHSALE_THREADS": threads,
            "FLASHSALE_LOG": directory.path + "/functions.log",
        ]
        let status = try ChildProcessRunner.run(
            "exec \"\(Paths.executable("flashsale-noop"))\" </dev/null",
            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
        #expect(status != nil && status != 0)
        let log = try String(contentsOfFile: directory.path + "/functions.log", encoding: .utf8)
        #expect(log.contains("FLASHSALE_THREADS=\(threads) is not a thread count (1 to 64)"))
    }

    @Test func manyThreadsAnswerManyConcurrentRequests() throws {
        let function = try Self.noop(threads: 8)
        #expect(eventually { function.threadsPolling == 8 })
        let socketPath = function.socketPath
        let answered = Tally()
        let finished = onThreads(16, within: 60) { _ in
            for _ in 0..<25 {
                let answer = try? FastCGIClient.request(socketPath: socketPath, params: Self.get)
                if answer?.status == 200 && answer?.text == "{}" {
                    answered.add(1)
                }
            }
        }
        #expect(finished)
        #expect(answered.value == 16 * 25)
        #expect(function.isRunning)
    }
}

extension FunctionProcess {
    /// The kernel functions the process's threads sleep in (`/proc/PID/task/TID/wchan`).
    fileprivate var threadWaitChannels: [String] {
        let tasks = "/proc/\(process.pid)/task"
        let ids = (try? FileManager.default.contentsOfDirectory(atPath: tasks)) ?? []
        return ids.map { (try? String(contentsOfFile: "\(tasks)/\($0)/wchan", encoding: .utf8)) ?? "" }
    }

    /// How many threads sleep reading a connection, as one does waiting for a request's parameters.
    fileprivate var threadsReading: Int {
        threadWaitChannels.filter { $0.contains("read") }.count
    }

    /// How many threads sleep polling, as an idle serving thread waits for a connection.
    fileprivate var threadsPolling: Int {
        threadWaitChannels.filter { $0.contains("poll") }.count
    }
}

/// A whole request, sent before `init` returns, whose answer is read on a thread of its own,
/// so a test can see whether it comes within a bound without being held by it.
private final class AwaitedAnswer: Sendable {
    private let arrived = DispatchSemaphore(value: 0)
    private let answerStatus = Mutex<Int?>(nil)

    init(socketPath: String) throws {
        let client = try FastCGIClient(socketPath: socketPath)
        try client.begin(params: ServingThreadsTests.params)
        try client.sendBody([])
        // Handed to the reading thread: this one never touches it again.
        nonisolated(unsafe) let reader = client
        Thread { [self] in
            let status = try? reader.readAnswer().status
            answerStatus.withLock { $0 = status }
            arrived.signal()
        }.start()
    }

    /// The answer's status if it came within `seconds`, nil if not (or if reading it failed).
    func status(within seconds: Double) -> Int? {
        guard arrived.wait(timeout: .now() + seconds) == .success else { return nil }
        arrived.signal()
        return answerStatus.withLock { $0 }
    }
}
