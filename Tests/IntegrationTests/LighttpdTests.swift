import Basics
import Foundation
import Hosting
import TestSupport
import Testing

/// `flashsale serve` for real: lighttpd on a free loopback port spawning the functions.
@Suite struct LighttpdTests {
    @Test func timeAnswersTheServerClockUncachedWithSecurityHeaders() throws {
        let serve = try ServeProcess()
        let answer = try HTTPClient.request(port: serve.port, target: "/api/time")
        let now = Date().timeIntervalSince1970 * 1000
        #expect(answer.status == 200)
        let served = try #require(answer.json()["now"] as? Double)
        #expect(abs(served - now) < 2000)
        #expect(answer.headers["content-type"] == "application/json")
        #expect(answer.headers["cache-control"] == "no-store")
        #expect(answer.headers["x-content-type-options"] == "nosniff")
        #expect(answer.headers["x-frame-options"] == "DENY")
        #expect(answer.headers["content-security-policy"]?.contains("default-src 'self'") == true)
        #expect(serve.stop() == 0)
    }

    @Test func unknownPathsAndWrongMethodsAreJSONErrors() throws {
        let serve = try ServeProcess()
        let underFunction = try HTTPClient.request(port: serve.port, target: "/api/time/extra")
        #expect(underFunction.status == 404)
        #expect(underFunction.errorCode == "not_found")
        let noFunction = try HTTPClient.request(port: serve.port, target: "/api/nothing-here")
        #expect(noFunction.status == 404)
        #expect(noFunction.errorCode == "not_found")
        #expect(noFunction.headers["content-type"] == "application/json")
        let wrongMethod = try HTTPClient.request(port: serve.port, method: "POST", target: "/api/time")
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.errorCode == "method_not_allowed")
        #expect(wrongMethod.headers["allow"] == "GET, HEAD")
        #expect(serve.stop() == 0)
    }

    @Test func bodiesOverTheCapAre413JSON() throws {
        let serve = try ServeProcess()
        let small = try HTTPClient.request(
            port: serve.port, method: "POST", target: "/api/noop", body: Array("{}".utf8))
        #expect(small.status == 200)
        let overFunctionCap = try HTTPClient.request(
            port: serve.port, method: "POST", target: "/api/noop", body: [UInt8](repeating: 97, count: 2048))
        #expect(overFunctionCap.status == 413)
        #expect(overFunctionCap.errorCode == "payload_too_large")
        let overServerCap = try HTTPClient.request(
            port: serve.port, method: "POST", target: "/api/noop", body: [UInt8](repeating: 97, count: 200 * 1024))
        #expect(overServerCap.status == 413)
        #expect(overServerCap.errorCode == "payload_too_large")
        #expect(serve.stop() == 0)
    }

    @Test func badRequestsGetJSONErrorsAndKillNoFunction() throws {
        let serve = try ServeProcess()
        let before = Set(serve.functionPIDs("noop") + serve.functionPIDs("time"))
        let hugeQuery = try HTTPClient.request(
            port: serve.port, target: "/api/noop?a=" + String(repeating: "x", count: 20_000))
        #expect([414, 431].contains(hugeQuery.status))
        #expect(hugeQuery.errorCode == "bad_request")
        let hugeHeader = try HTTPClient.request(
            port: serve.port, target: "/api/noop", headers: ["X-Huge": String(repeating: "y", count: 20_000)])
        #expect(hugeHeader.status == 431)
        #expect(hugeHeader.errorCode == "bad_request")
        let rawNonUTF8 = try HTTPClient.send(
            port: serve.port,
            raw: Array("GET /api/noop?a=".utf8) + [0xFF, 0xFE]
                + Array(" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
        #expect(rawNonUTF8.status == 400)
        #expect(rawNonUTF8.errorCode == "bad_request")
        let encodedNonUTF8 = try HTTPClient.request(port: serve.port, target: "/api/noop?a=%FF")
        #expect(encodedNonUTF8.status == 400)
        #expect(encodedNonUTF8.errorCode == "bad_request")
        let garbage = try HTTPClient.send(port: serve.port, raw: Array("NOT HTTP AT ALL\r\n\r\n".utf8))
        #expect(garbage.status == 400)
        #expect(garbage.errorCode == "bad_request")
        #expect(Set(serve.functionPIDs("noop") + serve.functionPIDs("time")) == before)
        #expect(try HTTPClient.request(port: serve.port, target: "/api/noop").status == 200)
        #expect(serve.stop() == 0)
    }

    @Test func aKilledFunctionIsRespawnedAndServesAgain() throws {
        let serve = try ServeProcess()
        let before = serve.functionPIDs("time")
        #expect(before.count == 2)
        let victim = try #require(before.first)
        kill(victim, SIGKILL)
        #expect(
            eventually {
                let now = serve.functionPIDs("time"); return now.count == 2 && !now.contains(victim)
            })
        #expect(eventually { (try? HTTPClient.request(port: serve.port, target: "/api/time"))?.status == 200 })
        for _ in 0..<10 {
            #expect(try HTTPClient.request(port: serve.port, target: "/api/time").status == 200)
        }
        #expect(serve.stop() == 0)
    }

    @Test func staticFilesAreServedWithTheirTypes() throws {
        let serve = try ServeProcess()
        let page = try HTTPClient.request(port: serve.port, target: "/")
        #expect(page.status == 200)
        #expect(page.headers["content-type"] == "text/html; charset=utf-8")
        #expect(page.headers["x-content-type-options"] == "nosniff")
        let missing = try HTTPClient.request(port: serve.port, target: "/no-such-page.html")
        #expect(missing.status == 404)
        #expect(serve.stop() == 0)
    }

    @Test func servesOnTheIPv6Loopback() throws {
        let serve = try ServeProcess(host: "::1")
        #expect(try HTTPClient.request(host: "::1", port: serve.port, target: "/api/time").status == 200)
        #expect(serve.log.contains("serving http://[::1]:\(serve.port)/"))
        #expect(serve.stop() == 0)
    }

    /// A manifest's environment reaches its function as written, beside the host's own
    /// variables, and the function's stderr is the data directory's function log.
    @Test func aManifestsEnvironmentReachesItsFunctionVerbatim() throws {
        let greeting = #"say "hi" & 'bye' — é"#
        let project = try ProjectCopy(environment: ["GREETING": greeting])
        defer { project.remove() }
        let serve = try ServeProcess(root: project.root)
        let noop = try #require(serve.functionPIDs("noop").first)
        let environment = try #require(FileManager.default.contents(atPath: "/proc/\(noop)/environ"))
            .split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        #expect(environment.contains("GREETING=\(greeting)"))
        #expect(environment.contains("FLASHSALE_MAX_BODY_BYTES=1024"))
        #expect(environment.contains("FLASHSALE_DATA=\(serve.data.path)"))
        // A process just spawned redirects stderr as its first step: wait for that, bounded.
        let stderr = { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(noop)/fd/2") }
        #expect(eventually { stderr() == serve.data.functionLog }, "stderr is \(stderr() ?? "unknown")")
        #expect(serve.stop() == 0)
    }

    /// Stopping serve lets an answer in flight finish: lighttpd gets its graceful shutdown.
    @Test func stoppingServeLetsADownloadInFlightFinish() throws {
        let project = try ProjectCopy()
        defer { project.remove() }
        let size = 64 << 20
        #expect(try ChildProcessRunner.run("truncate -s \(size) \(project.staticDirectory)/large.bin") == 0)
        let serve = try ServeProcess(root: project.root)
        let download = try SocketStream(port: serve.port)
        try download.write(Array("GET /large.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
        var received = try download.read(atMost: 65536)
        serve.process.signal(SIGTERM)
        // lighttpd has begun to stop once it no longer takes connections.
        #expect(eventually { (try? SocketStream(port: serve.port)) == nil })
        received += try download.readToEnd()
        let answer = try HTTPAnswer(raw: received)
        #expect(answer.status == 200)
        #expect(answer.body.count == size)
        #expect(serve.process.waitForExit(within: 20) == 0)
    }

    /// Ctrl-C, a kill, a closed terminal or a quit key: each stops everything.
    @Test(arguments: [SIGINT, SIGTERM, SIGHUP, SIGQUIT])
    func stoppingServeStopsLighttpdAndEveryFunction(_ signo: Int32) throws {
        let serve = try ServeProcess()
        let lighttpd = try #require(serve.lighttpdPID)
        #expect(!serve.functionPIDs("time").isEmpty)
        #expect(!serve.functionPIDs("noop").isEmpty)
        #expect(serve.stop(with: signo) == 0)
        #expect(kill(lighttpd, 0) == -1)
        #expect(runningPIDs(executable: nil, dataDirectory: serve.data.path).isEmpty)
        #expect(serve.log.contains("stopping lighttpd and its functions"))
    }
}
