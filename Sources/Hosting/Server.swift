import Basics
import CProcessShims
import Foundation

/// `flashsale serve`: writes the configuration, runs lighttpd in the foreground (which spawns
/// the functions), starts it again when it dies (see ``LighttpdRestarts``), and on Ctrl-C,
/// SIGTERM, SIGHUP or SIGQUIT stops lighttpd and every process it spawned. lighttpd gets
/// SIGTERM when serve dies, however it dies, and its functions when lighttpd does.
public struct Server: Sendable {
    /// How long lighttpd gets to exit after SIGINT (its graceful shutdown, whose own limit,
    /// `server.graceful-shutdown-timeout`, is 5 s in the template), and then its functions
    /// after SIGTERM, before SIGKILL.
    static let stopGraceSeconds = 8.0

    public var config: LighttpdConfig
    public var lighttpd: String

    public init(config: LighttpdConfig, lighttpd: String) {
        self.config = config
        self.lighttpd = lighttpd
    }

    private var deployment: Deployment { config.deployment }

    /// Checks everything an operator could have got wrong, one clear line each.
    public func preflight() throws {
        try deployment.data.checkUsable()
        for manifest in deployment.manifests
        where manifest.remoteBackends.isEmpty && access(deployment.executable(of: manifest), X_OK) != 0 {
            throw HostingError(
                "function \(manifest.name) is not built (no \(deployment.executable(of: manifest))): run `make build`")
        }
        try PortCheck.ensureFree(host: deployment.host, port: deployment.port)
    }

    /// Stops what an earlier serve that died hard left running on the data directory (see
    /// ``Leftovers``), checks what an operator could have got wrong, runs `beforeStart` (what
    /// must happen only once the checks pass: a demo sale started over, the site published),
    /// then runs lighttpd, again each time it dies, until a stop signal arrives (0) or it
    /// keeps dying (``LighttpdRestarts/gaveUpStatus``); returns the exit code to use, with a
    /// ``ConnectionGuard`` at lighttpd's door meanwhile. Call it on the main thread:
    /// lighttpd's parent-death signal fires when the starting thread ends.
    public func run(beforeStart: () throws -> Void = {}, log: @escaping @Sendable (String) -> Void) throws -> Int32 {
        try clearLeftovers(log: log)
        try preflight()
        try beforeStart()
        try config.write()
        var signals = sigset_t()
        sigemptyset(&signals)
        for signo in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD] {
            sigaddset(&signals, signo)
        }
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        // Functions orphaned by lighttpd's exit come to us, so we can reap and count them.
        try systemCall("prctl", "PR_SET_CHILD_SUBREAPER") { flashsale_become_child_subreaper() }
        var restarts = LighttpdRestarts()
        let connectionGuard = ConnectionGuard(deployment: deployment, log: log)
        defer { connectionGuard?.stop() }
        var server = try start()
        log(
            "flashsale: serving http://\(deployment.bracketedHost):\(deployment.port)/ (lighttpd pid \(server.pid), data \(deployment.data.path)); Ctrl-C stops"
        )
        while true {
            guard let status = waitForExit(of: server, signals: &signals) else {
                log("flashsale: stopping lighttpd and its functions")
                server.signal(SIGINT)
                _ = server.waitForExit(within: Self.stopGraceSeconds)
                stopGroup(of: server)
                return 0
            }
            // Its functions go before another lighttpd spawns on the same sockets.
            stopGroup(of: server)
            let errorLog = "\(deployment.data.logs)/lighttpd-error.log"
            guard let delay = restarts.delay(afterExitAt: .now) else {
                log(
                    "flashsale: lighttpd exited with status \(status), its \(restarts.exits)th exit within \(Int(LighttpdRestarts.window)) s: giving up (exit \(LighttpdRestarts.gaveUpStatus)); see \(errorLog)"
                )
                return LighttpdRestarts.gaveUpStatus
            }
            log(
                "flashsale: lighttpd exited with status \(status); restarting it in \(delay) s (exit \(restarts.exits) of \(LighttpdRestarts.maxExits) allowed within \(Int(LighttpdRestarts.window)) s); see \(errorLog)"
            )
            if stopSignalArrives(signals: &signals, within: delay) {
                log("flashsale: stopping")
                return 0
            }
            try clearLeftovers(log: log)
            server = try start()
            log("flashsale: lighttpd restarted (pid \(server.pid))")
        }
    }

    /// lighttpd in the foreground, the leader of its own process group, sent SIGTERM (its quick
    /// stop, which stops its functions and removes their sockets and its pid file) when this
    /// thread ends, kill -9 included.
    private func start() throws -> ChildProcess {
        try ChildProcess(
            executable: lighttpd, arguments: ["-D", "-f", deployment.data.lighttpdConfig], parentDeathSignal: SIGTERM)
    }

    /// Waits for a signal until `server` has exited (its status) or a stop signal arrives (nil).
    private func waitForExit(of server: ChildProcess, signals: inout sigset_t) -> Int32? {
        while true {
            var received: Int32 = 0
            sigwait(&signals, &received)
            if let status = server.exitStatus() { return status }
            if received != SIGCHLD { return nil }
        }
    }

    /// Waits `seconds`, reaping orphans; true if a stop signal arrived meanwhile.
    private func stopSignalArrives(signals: inout sigset_t, within seconds: Double) -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            let left = ContinuousClock.now.duration(to: deadline).components
            var timeout = timespec(tv_sec: Int(left.seconds), tv_nsec: Int(left.attoseconds / 1_000_000_000))
            let received = sigtimedwait(&signals, nil, &timeout)
            reapOrphans()
            if received > 0 && received != SIGCHLD { return true }
        }
        return false
    }

    /// Stops what an earlier serve left on the data directory, then removes the sockets nobody
    /// holds any more.
    private func clearLeftovers(log: (String) -> Void) throws {
        let data = deployment.data
        let leftovers = Leftovers(of: data, lighttpd: lighttpd)
        if !leftovers.processes.isEmpty {
            log("flashsale: stopping what an earlier serve left running on \(data.path): \(leftovers.summary)")
            guard leftovers.stop(grace: Self.stopGraceSeconds) else {
                throw HostingError(
                    "\(leftovers.summary), left running on \(data.path) by an earlier serve, do not stop: kill them and start again"
                )
            }
        }
        Leftovers.removeStaleSockets(in: data)
    }

    /// Makes sure nothing of the group outlives the server. lighttpd has exited or had its
    /// grace period, so it gets SIGKILL; what is left of its group gets SIGTERM, a grace
    /// period, then SIGKILL. Orphans are re-parented to this process (subreaper), so reaping
    /// them is what empties the group.
    private func stopGroup(of server: ChildProcess) {
        server.signal(SIGKILL)
        server.reap()
        let gone = {
            reapOrphans()
            return !server.groupIsAlive
        }
        if gone() { return }
        server.signalGroup(SIGTERM)
        if !eventually(within: Self.stopGraceSeconds, gone) {
            server.signalGroup(SIGKILL)
            _ = eventually(within: Self.stopGraceSeconds, gone)
        }
    }

    /// Locates lighttpd: `$FLASHSALE_LIGHTTPD` if set, else PATH and the usual sbin folders.
    public static func findLighttpd(environment: [String: String]) throws(HostingError) -> String {
        let candidates: [String]
        if let chosen = environment["FLASHSALE_LIGHTTPD"] {
            candidates = [chosen]
        } else {
            let path = (environment["PATH"] ?? "").split(separator: ":").map(String.init)
            candidates = (path + ["/usr/sbin", "/usr/local/sbin", "/sbin"]).map { "\($0)/lighttpd" }
        }
        guard let found = candidates.first(where: { access($0, X_OK) == 0 }) else {
            throw HostingError(
                "lighttpd is not installed (looked for \(candidates.joined(separator: ", "))): apt-get install lighttpd"
            )
        }
        return found
    }
}

/// Reaps every child that has exited, without waiting.
private func reapOrphans() {
    var status: Int32 = 0
    while waitpid(-1, &status, WNOHANG) > 0 {}
}
