import Basics
import Foundation
import Hosting
import TestSupport
import Testing

/// A real function process spoken to over FastCGI directly, with input no web server sends.
@Suite struct FunctionProcessTests {
    static let good: [String: String] = [
        "REQUEST_METHOD": "GET", "REQUEST_URI": "/api/noop", "REMOTE_ADDR": "127.0.0.1",
    ]

    func params(_ changes: [String: [UInt8]?]) -> [(String, [UInt8])] {
        var values = Self.good.mapValues { Array($0.utf8) }
        for (name, value) in changes {
            values[name] = value
        }
        return values.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    struct BadInput: Sendable, CustomTestStringConvertible {
        var name: String
        var params: [String: [UInt8]?]
        var body: [UInt8] = []
        var status: Int
        var code: String
        var testDescription: String { name }
    }

    static let badInputs: [BadInput] = [
        BadInput(name: "no REQUEST_METHOD", params: ["REQUEST_METHOD": nil], status: 400, code: "bad_request"),
        BadInput(name: "no REQUEST_URI", params: ["REQUEST_URI": nil], status: 400, code: "bad_request"),
        BadInput(
            name: "malformed percent-encoding in the query",
            params: ["REQUEST_URI": Array("/api/noop?a=%zz".utf8), "QUERY_STRING": Array("a=%zz".utf8)],
            status: 400, code: "bad_request"),
        BadInput(
            name: "malformed percent-encoding in the path", params: ["REQUEST_URI": Array("/api/no%Gop".utf8)],
            status: 400, code: "bad_request"),
        BadInput(
            name: "non-UTF-8 bytes in the URI", params: ["REQUEST_URI": Array("/api/noop?a=".utf8) + [0xFF, 0xFE]],
            status: 400, code: "bad_request"),
        BadInput(
            name: "percent-encoded non-UTF-8 in the query",
            params: ["REQUEST_URI": Array("/api/noop?a=%FF".utf8), "QUERY_STRING": Array("a=%FF".utf8)],
            status: 400, code: "bad_request"),
        BadInput(
            name: "a body over the cap",
            params: ["REQUEST_METHOD": Array("POST".utf8), "CONTENT_LENGTH": Array("4096".utf8)],
            body: [UInt8](repeating: 120, count: 4096), status: 413, code: "payload_too_large"),
        BadInput(
            name: "a body shorter than its Content-Length",
            params: ["REQUEST_METHOD": Array("POST".utf8), "CONTENT_LENGTH": Array("100".utf8)],
            body: [1, 2, 3], status: 400, code: "bad_request"),
        BadInput(
            name: "a Content-Length that is not a number",
            params: ["REQUEST_METHOD": Array("POST".utf8), "CONTENT_LENGTH": Array("12abc".utf8)],
            status: 400, code: "bad_request"),
        BadInput(
            name: "an unknown path", params: ["REQUEST_URI": Array("/api/other".utf8)], status: 404, code: "not_found"),
        BadInput(
            name: "a method the path does not take", params: ["REQUEST_METHOD": Array("DELETE".utf8)],
            status: 405, code: "method_not_allowed"),
    ]

    @Test func everyBadInputGetsAJSONErrorAndTheProcessKeepsServing() throws {
        let function = try FunctionProcess("noop", maxBodyBytes: 1024)
        for input in Self.badInputs {
            let answer = try FastCGIClient.request(
                socketPath: function.socketPath, params: params(input.params), body: input.body)
            #expect(answer.status == input.status, "\(input.name)")
            #expect(answer.errorCode == input.code, "\(input.name)")
            #expect(answer.headers["content-type"] == "application/json", "\(input.name)")
        }
        #expect(function.isRunning)
        let answer = try FastCGIClient.request(socketPath: function.socketPath, params: Self.good)
        #expect(answer.status == 200)
        #expect(answer.text == "{}")
    }

    @Test func hugeParametersAreAnsweredWithoutHarm() throws {
        let process = try FunctionProcess("noop")
        let query = "a=" + String(repeating: "x", count: 1 << 20)
        let answer = try FastCGIClient.request(
            socketPath: process.socketPath,
            params: params([
                "REQUEST_URI": Array("/api/noop?\(query)".utf8),
                "QUERY_STRING": Array(query.utf8),
                "HTTP_X_HUGE": [UInt8](repeating: 65, count: 1 << 20),
            ]))
        #expect(answer.status == 200)
        #expect(process.isRunning)
    }

    /// SIGTERM and SIGINT, and SIGUSR1, libfcgi's graceful stop, all end an idle function.
    @Test(arguments: [SIGTERM, SIGINT, SIGUSR1])
    func aStopSignalWhileIdleExitsCleanly(_ signo: Int32) throws {
        let function = try FunctionProcess("time")
        function.process.signal(signo)
        #expect(function.waitForExit() == 0)
    }

    /// A stop while requests wait in the queue answers all of them, and refuses new
    /// connections at once so the web server sends those to another process.
    @Test func aStopUnderLoadAnswersEveryQueuedRequestAndRefusesNewOnes() throws {
        let function = try FunctionProcess("noop")
        let post = params(["REQUEST_METHOD": Array("POST".utf8), "CONTENT_LENGTH": Array("2".utf8)])
        // The first request holds the function reading its parameters while others queue.
        let first = try FastCGIClient(socketPath: function.socketPath)
        try first.sendBeginRequest()
        #expect(eventually { function.waitChannel.contains("read") })
        let queued = try (0..<20).map { _ in
            let client = try FastCGIClient(socketPath: function.socketPath)
            try client.begin(params: post)
            try client.sendBody(Array("{}".utf8))
            return client
        }
        // The last begins but sends no parameters yet (libfcgi drops a unix connection that
        // stays silent for 2 s after accept).
        let last = try FastCGIClient(socketPath: function.socketPath)
        try last.sendBeginRequest()
        function.process.signal(SIGTERM)
        try first.sendParams(post)
        try first.sendBody(Array("{}".utf8))
        #expect(try first.readAnswer().status == 200)
        for client in queued {
            #expect(try client.readAnswer().status == 200)
        }
        // The function now waits for the last queued request; the listener is already shut.
        #expect(eventually { function.waitChannel.contains("read") })
        #expect(throws: POSIXError(.ECONNREFUSED)) { try SocketStream(unixPath: function.socketPath) }
        try last.sendParams(post)
        try last.sendBody(Array("{}".utf8))
        #expect(try last.readAnswer().status == 200)
        #expect(function.waitForExit() == 0)
    }

    /// A web server asking to keep the connection (FCGI_KEEP_CONN) still gets it closed after
    /// the answer, and the function goes on to the next connection.
    @Test func aKeepConnectionRequestIsAnsweredAndClosed() throws {
        let function = try FunctionProcess("noop")
        for _ in 0..<2 {
            let client = try FastCGIClient(socketPath: function.socketPath)
            try client.sendBeginRequest(keepConnection: true)
            try client.sendParams(params([:]))
            try client.sendBody([])
            #expect(try client.readAnswer().status == 200)
        }
    }

    /// After its answer a function lets the connection go at once, though the web server keeps
    /// its side open and goes on sending: libfcgi's lingering close would read and wait up to
    /// 2 s more after each byte, holding the serving thread from the next request.
    @Test func aFunctionLetsGoOfAnAnsweredConnectionTheWebServerKeepsOpen() throws {
        let function = try FunctionProcess("noop")
        let client = try FastCGIClient(socketPath: function.socketPath)
        try client.begin(params: params([:]))
        try client.sendBody([])
        #expect(try client.readAnswerLeavingOpen().status == 200)
        #expect(eventually { client.functionHasClosed() })
        let next = try FastCGIClient.request(socketPath: function.socketPath, params: Self.good)
        #expect(next.status == 200)
    }

    /// The same for the order function handed its socket as fd 0 (spawn-fcgi, as lighttpd
    /// does), where its door starts libfcgi before the serving thread does.
    @Test func theOrderFunctionBehindItsDoorLetsGoOfAnAnsweredConnection() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = directory.path + "/var"
        #expect(try FlashsaleCommand.run("init --data \"\(data)\"").status == 0)
        let socket = directory.path + "/order.sock"
        var environment = ProcessInfo.processInfo.environment
        environment["FLASHSALE_DATA"] = data
        let spawned = try ChildProcess(
            executable: "/usr/bin/spawn-fcgi",
            arguments: ["-n", "-s", socket, "--", Paths.executable("flashsale-order")], environment: environment)
        defer {
            spawned.signal(SIGKILL)
            spawned.reap()
        }
        // spawn-fcgi binds and listens before it starts the function: from then on a connection waits.
        try #require(eventually { FileManager.default.fileExists(atPath: socket) })
        let client = try FastCGIClient(socketPath: socket)
        try client.begin(params: params(["REQUEST_URI": Array("/api/order/none".utf8)]))
        try client.sendBody([])
        #expect(try client.readAnswerLeavingOpen().errorCode != nil)
        #expect(eventually { client.functionHasClosed() })
    }

    /// A body over the cap that is still arriving when the function has its answer is read to
    /// its end before the answer: closing on it would fail the web server's write.
    @Test func aBodyOverTheCapStillArrivingIsReadBeforeTheAnswer() throws {
        let function = try FunctionProcess("noop", maxBodyBytes: 1024)
        let client = try FastCGIClient(socketPath: function.socketPath)
        try client.begin(
            params: params(["REQUEST_METHOD": Array("POST".utf8), "CONTENT_LENGTH": Array("4096".utf8)]))
        #expect(eventually { function.waitChannel.contains("read") })
        try client.sendBody([UInt8](repeating: 120, count: 4096))
        let answer = try client.readAnswer()
        #expect(answer.status == 413)
        #expect(answer.errorCode == "payload_too_large")
    }

    /// A request whose input never ends (no empty STDIN record) holds its thread only for the
    /// read timeout: the answer comes, and the next request is served.
    @Test func aRequestWhoseInputNeverEndsIsAnsweredAfterTheReadTimeout() throws {
        let function = try FunctionProcess("noop")
        let client = try FastCGIClient(socketPath: function.socketPath)
        try client.begin(params: params([:]))
        #expect(try client.readAnswerLeavingOpen().status == 200)
        #expect(try FastCGIClient.request(socketPath: function.socketPath, params: Self.good).status == 200)
    }

    enum Moment: String, CaseIterable, CustomTestStringConvertible {
        case beforeTheParameters, beforeTheBody
        var testDescription: String { rawValue }
    }

    /// The stop signal lands while the function waits for the rest of an accepted request.
    @Test(arguments: Moment.allCases)
    func sigtermFinishesTheRequestInHandThenExits(_ moment: Moment) throws {
        let function = try FunctionProcess("noop")
        let post = params(["REQUEST_METHOD": Array("POST".utf8), "CONTENT_LENGTH": Array("2".utf8)])
        let answer = try {
            let client = try FastCGIClient(socketPath: function.socketPath)
            try client.sendBeginRequest()
            if moment == .beforeTheBody {
                try client.sendParams(post)
            }
            #expect(eventually { function.waitChannel.contains("read") })
            function.process.signal(SIGTERM)
            if moment == .beforeTheParameters {
                try client.sendParams(post)
            }
            try client.sendBody(Array("{}".utf8))
            return try client.readAnswer()
        }()
        #expect(answer.status == 200)
        #expect(answer.text == "{}")
        #expect(function.waitForExit() == 0)
    }

    @Test func refusesToRunWithoutAFastCGISocket() throws {
        let output = try TemporaryDirectory()
        defer { output.remove() }
        let status = try ChildProcessRunner.run(
            "exec \"\(Paths.executable("flashsale-noop"))\" </dev/null 2>\"\(output.path)/err\"")
        #expect(status == 1)
        let message = try String(contentsOfFile: output.path + "/err", encoding: .utf8)
        #expect(message.contains("flashsale serve"))
    }

    /// A function that cannot start says why, with the C facts, in the file FLASHSALE_LOG names.
    /// (libfcgi itself reports a failed bind with perror and exits with errno.)
    @Test(arguments: [
        (["FLASHSALE_LISTEN": "/nonexistent/dir/noop.sock"], "bind/listen: No such file or directory"),
        (["FLASHSALE_LISTEN": "@SOCKET@", "FLASHSALE_MAX_BODY_BYTES": "lots"], "FLASHSALE_MAX_BODY_BYTES=lots"),
        (["FLASHSALE_LISTEN": "@SOCKET@", "FLASHSALE_MAX_BODY_BYTES": "-1"], "FLASHSALE_MAX_BODY_BYTES=-1"),
        (["FLASHSALE_LISTEN": "@SOCKET@", "FLASHSALE_PROCESSES_PER_SOCKET": "0"], "FLASHSALE_PROCESSES_PER_SOCKET=0"),
    ])
    func aFunctionThatCannotStartLogsWhyAndExits(environment: [String: String], logged: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var environment = environment.mapValues { $0.replacing("@SOCKET@", with: directory.path + "/noop.sock") }
        environment["FLASHSALE_LOG"] = directory.path + "/functions.log"
        let status = try ChildProcessRunner.run(
            "exec \"\(Paths.executable("flashsale-noop"))\" </dev/null",
            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
        #expect(status != nil && status != 0)
        let log = try String(contentsOfFile: directory.path + "/functions.log", encoding: .utf8)
        #expect(log.contains(logged))
    }
}
