import Basics
import Foundation
import Hosting
import Synchronization

/// A running deployment that tests send requests to: `flashsale serve`, or a web server
/// started from what `flashsale config` wrote.
public protocol RunningHost: AnyObject {
    var port: Int { get }
    var data: DataDirectory { get }
    /// Pids of the running processes of function `name` serving this data directory.
    func functionPIDs(_ name: String) -> [pid_t]
    /// The logs worth reading when a test fails.
    var logFiles: [String] { get }
}

extension ServeProcess: RunningHost {
    public var logFiles: [String] { [data.logs + "/lighttpd-error.log", data.functionLog] }
}

/// flashsale on a real web server configured by `flashsale config <host>`, on a free loopback
/// port with a fresh data directory, set up as an operator would. Run as root, the data
/// directory is given to `nobody`, as to a service account: Apache will not run functions as
/// root, and the functions run apart are started as that account, as their systemd units
/// would. Deinit kills everything it started.
public final class HostedSite: RunningHost {
    public enum Kind: String, CaseIterable, Sendable, CustomStringConvertible {
        /// lighttpd spawning the functions: what `flashsale serve` runs.
        case lighttpd
        /// Apache with mod_fcgid spawning the functions.
        case apache
        /// Apache with mod_proxy_fcgi to each function's spawn socket.
        case apacheSpawn = "apache-spawn"
        /// nginx, each function run by its spawn-fcgi script on a unix socket.
        case nginx
        /// lighttpd balancing each function over a TCP backend run by its spawn script.
        case lighttpdRemote = "lighttpd-remote"
        /// Apache with mod_proxy_fcgi to each function's TCP backend run by its spawn script.
        case apacheProxy = "apache-proxy"

        public var description: String { rawValue }

        /// The `flashsale config` subcommand that configures the web server.
        var server: String {
            switch self {
            case .lighttpd, .lighttpdRemote: "lighttpd"
            case .apache, .apacheSpawn, .apacheProxy: "apache"
            case .nginx: "nginx"
            }
        }

        /// Whether the functions run apart from the web server (spawn scripts).
        var runsFunctionsApart: Bool { ![.lighttpd, .apache].contains(self) }
        /// Whether the functions are remote backends on TCP.
        var usesBackends: Bool { [.lighttpdRemote, .apacheProxy].contains(self) }
    }

    /// The account the data directory is given to when the tests run as root.
    static let serviceAccount: uid_t = 65534

    public let kind: Kind
    public let port: Int
    public let data: DataDirectory
    public let project: ProjectCopy
    private let directory: TemporaryDirectory
    private var processes: [ChildProcess] = []

    /// Deploys the project's functions, `environment` replacing every manifest's own; nil runs
    /// the manifests as shipped.
    public init(_ kind: Kind, environment: [String: String]? = [:]) throws {
        self.kind = kind
        directory = try TemporaryDirectory("host")
        chmod(directory.path, 0o755)
        data = DataDirectory(path: directory.path + "/var")
        let names = try Manifest.loadAll(from: Paths.packageRoot + "/functions").filter { !$0.isDemoOnly }.map(\.name)
        var backends: [String: Int] = [:]
        if kind.usesBackends {
            for name in names { backends[name] = try freePort() }
        }
        project = try ProjectCopy(environment: environment, backends: backends.mapValues { ["127.0.0.1:\($0)"] })
        port = try freePort()
        do {
            try start(names: names, backends: backends)
        } catch {
            cleanUp()
            throw error
        }
        Self.enrol(self)
    }

    deinit {
        cleanUp()
    }

    private func start(names: [String], backends: [String: Int]) throws {
        let common = "--data \"\(data.path)\" --root \"\(project.root)\" --bin \"\(Self.binDirectory)\""
        try flashsale("init --data \"\(data.path)\"")
        try flashsale("status --data \"\(data.path)\"")  // the segment exists before it is given away
        if getuid() == 0 {
            try run("/bin/chown", ["-R", "\(Self.serviceAccount):\(Self.serviceAccount)", data.path])
        }
        try flashsale(
            "config \(kind.server) \(common) --port \(port)\(kind == .apacheSpawn ? " --functions spawn" : "")")
        if kind.runsFunctionsApart {
            let listen = backends.sorted { $0.key < $1.key }.map { "--listen \($0.key)=127.0.0.1:\($0.value)" }
            try flashsale("config spawn \(common) \(listen.joined(separator: " "))")
            for name in names {
                let script = "\(data.path)/spawn/\(name).sh"
                let account = ["/usr/bin/setpriv", "--reuid=\(Self.serviceAccount)", "--regid=\(Self.serviceAccount)"]
                try launch((getuid() == 0 ? account + ["--clear-groups", "--"] : []) + [script], log: "spawn-\(name)")
            }
            let ready = eventually(within: 30) {
                names.allSatisfy { name in
                    if let port = backends[name] { return (try? SocketStream(host: "127.0.0.1", port: port)) != nil }
                    return FileManager.default.fileExists(atPath: "\(self.data.sockets)/\(name).spawn.sock")
                }
            }
            guard ready else {
                throw ServeError(message: "the spawned functions did not listen within 30 s\n\(logTail)")
            }
        }
        switch kind.server {
        case "apache":
            try launch(["/usr/sbin/apache2", "-f", data.path + "/apache.conf", "-DFOREGROUND"], log: "apache")
        case "nginx":
            try launch(["/usr/sbin/nginx", "-c", data.path + "/nginx.conf", "-g", "daemon off;"], log: "nginx")
        default:
            let lighttpd = try Server.findLighttpd(environment: ProcessInfo.processInfo.environment)
            try launch([lighttpd, "-D", "-f", data.path + "/lighttpd.conf"], log: "lighttpd")
        }
        let answered = eventually(within: 30) {
            self.processes.contains { $0.exitStatus() != nil }
                || (try? HTTPClient.request(port: self.port, target: "/api/time"))?.status == 200
        }
        guard answered, !processes.contains(where: { $0.status != nil }) else {
            throw ServeError(message: "\(kind) did not answer /api/time within 30 s\n\(logTail)")
        }
    }

    private func flashsale(_ arguments: String) throws {
        let result = try FlashsaleCommand.run(arguments)
        guard result.status == 0 else { throw ServeError(message: "flashsale \(arguments): \(result.stderr)") }
    }

    private func run(_ executable: String, _ arguments: [String]) throws {
        let process = try ChildProcess(executable: executable, arguments: arguments)
        guard process.waitForExit(within: 30) == 0 else {
            throw ServeError(message: "\(executable) \(arguments) failed")
        }
    }

    /// Starts `command` in its own process group, its output in `<directory>/<log>.log`.
    private func launch(_ command: [String], log: String) throws {
        let redirect = "exec \"$@\" >>\"\(directory.path)/\(log).log\" 2>&1"
        processes.append(try ChildProcess(executable: "/bin/sh", arguments: ["-c", redirect, "sh"] + command))
    }

    public func functionPIDs(_ name: String) -> [pid_t] {
        runningPIDs(executable: "\(Self.binDirectory)/flashsale-\(name)", dataDirectory: data.path)
    }

    public var logFiles: [String] {
        let own = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let logs = (try? FileManager.default.contentsOfDirectory(atPath: data.logs)) ?? []
        return own.filter { $0.hasSuffix(".log") }.map { "\(directory.path)/\($0)" } + logs.map { "\(data.logs)/\($0)" }
    }

    /// The last lines of every log.
    public var logTail: String {
        logFiles.map { path in
            let lines = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
            return "\(path):\n" + lines.suffix(15).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    private func cleanUp() {
        Self.kill(processes.map(\.pid), data: data)
        processes.forEach { $0.reap() }
        Self.live.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(self)) }
        directory.remove()
    }

    /// The folder of the function executables the service account runs: the build's own, or,
    /// when the service account cannot reach it (a checkout under /root), a copy in /tmp.
    static let binDirectory: String = {
        guard getuid() == 0 else { return Paths.binDirectory }
        var folder = URL(fileURLWithPath: Paths.binDirectory)
        var reachable = true
        while folder.path != "/" {
            var info = stat()
            if stat(folder.path, &info) != 0 || info.st_mode & 0o001 == 0 { reachable = false }
            folder.deleteLastPathComponent()
        }
        guard !reachable, let copy = try? TemporaryDirectory("bin") else { return Paths.binDirectory }
        chmod(copy.path, 0o755)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: Paths.binDirectory)) ?? []
        for name in names where name.hasPrefix("flashsale-") && !name.contains(".") {
            try? FileManager.default.copyItem(atPath: Paths.executable(name), toPath: "\(copy.path)/\(name)")
        }
        atexit { HostedSite.copiedExecutables.withLock { $0?.remove() } }
        copiedExecutables.withLock { $0 = copy }
        return copy.path
    }()

    private static let copiedExecutables = Mutex<TemporaryDirectory?>(nil)

    /// Kills the process groups and any function left for the data directory.
    private static func kill(_ groups: [pid_t], data: DataDirectory) {
        for group in groups { Glibc.kill(-group, SIGKILL) }
        for pid in runningPIDs(executable: nil, dataDirectory: data.path) { Glibc.kill(pid, SIGKILL) }
    }

    /// Every site not cleaned up yet; killed when the test run exits, as ``ServeProcess`` does.
    private static let live = Mutex<[ObjectIdentifier: ([pid_t], DataDirectory)]>([:])

    private static func enrol(_ site: HostedSite) {
        live.withLock { $0[ObjectIdentifier(site)] = (site.processes.map(\.pid), site.data) }
        _ = killAtExit
    }

    private static let killAtExit: Void = {
        atexit {
            for (groups, data) in HostedSite.live.withLock({ $0.values.map { $0 } }) {
                HostedSite.kill(groups, data: data)
            }
        }
    }()
}
