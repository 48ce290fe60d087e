import CProcessShims
import Foundation
import POSIX

/// `flashsale serve`: writes the configuration, runs lighttpd in the foreground (which spawns
/// the functions), and on Ctrl-C, SIGTERM, SIGHUP or SIGQUIT stops lighttpd and every process
/// it spawned.
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

    /// Checks what an operator could have got wrong, runs `beforeStart` (what must happen only
    /// once the checks pass: a demo sale started over, the site published), then runs until
    /// lighttpd exits or a stop signal arrives; returns the exit code to use.
    public func run(beforeStart: () throws -> Void = {}, log: (String) -> Void) throws -> Int32 {
        try preflight()
        try beforeStart()
        try config.write()
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        for signo in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD] {
            sigaddset(&stopSignals, signo)
        }
        pthread_sigmask(SIG_BLOCK, &stopSignals, nil)
        // Functions orphaned by lighttpd's exit come to us, so we can reap and count them.
        try systemCall("prctl", "PR_SET_CHILD_SUBREAPER") { flashsale_become_child_subreaper() }
        let server = try ChildProcess(executable: lighttpd, arguments: ["-D", "-f", deployment.data.lighttpdConfig])
        log(
            "flashsale: serving http://\(deployment.bracketedHost):\(deployment.port)/ (lighttpd pid \(server.pid), data \(deployment.data.path)); Ctrl-C stops"
        )

        while true {
            var received: Int32 = 0
            sigwait(&stopSignals, &received)
            if let status = server.exitStatus() {
                stopGroup(of: server)
                log("flashsale: lighttpd exited with status \(status); see \(deployment.data.logs)/lighttpd-error.log")
                return status == 0 ? 1 : status
            }
            if received != SIGCHLD {
                log("flashsale: stopping lighttpd and its functions")
                server.signal(SIGINT)
                _ = server.waitForExit(within: Self.stopGraceSeconds)
                stopGroup(of: server)
                return 0
            }
        }
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
