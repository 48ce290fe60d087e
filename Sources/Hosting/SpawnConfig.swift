import Basics
import Foundation

/// Every function as a service of its own, apart from the web server: for each, a shell script
/// that runs it under spawn-fcgi on one socket (its unix socket in the data directory, or a
/// TCP `host:port`) with multiwatch forking the manifest's number of processes and starting
/// again any that dies, and a systemd unit that runs the script. This is how functions run
/// behind nginx and on other machines (a manifest's remote `backends`); `backends` do not
/// matter here, the deployment's manifests are the functions this machine runs.
public struct SpawnConfig: Sendable {
    /// One file to write: a script or a unit.
    public struct File: Sendable, Equatable {
        public var name: String
        public var text: String
        public var isExecutable: Bool
    }

    public var deployment: Deployment
    /// The folder the files are written to, which the units name.
    public var directory: String
    /// The functions that listen on TCP instead of their unix socket, by name.
    public var listen: [String: Backend]
    /// The account the systemd units run the functions as: the data directory's owner.
    public var owner: FileOwner
    public var spawnFCGI: String
    public var multiwatch: String

    public init(
        deployment: Deployment, directory: String, listen: [String: Backend] = [:], owner: FileOwner,
        spawnFCGI: String = "/usr/bin/spawn-fcgi", multiwatch: String = "/usr/bin/multiwatch"
    ) {
        self.deployment = deployment
        self.directory = absolutePath(directory)
        self.listen = listen
        self.owner = owner
        self.spawnFCGI = spawnFCGI
        self.multiwatch = multiwatch
    }

    /// A script `<name>.sh` and a unit `flashsale-<name>.service` per function.
    public func files() throws(HostingError) -> [File] {
        try deployment.checkQuotable()
        let names = Set(deployment.manifests.map(\.name))
        if let unknown = listen.keys.sorted().first(where: { !names.contains($0) }) {
            throw HostingError("--listen names \(unknown), which is not among the functions written")
        }
        var files: [File] = []
        for manifest in deployment.manifests {
            files.append(File(name: "\(manifest.name).sh", text: try script(for: manifest), isExecutable: true))
            files.append(
                File(name: "flashsale-\(manifest.name).service", text: try unit(for: manifest), isExecutable: false))
        }
        return files
    }

    /// The script that runs a function.
    public func scriptPath(of manifest: Manifest) -> String { "\(directory)/\(manifest.name).sh" }

    /// Writes every file into ``directory``, creating it.
    public func write() throws {
        let files = try files()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for file in files {
            let path = "\(directory)/\(file.name)"
            try Data(file.text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            _ = try systemCall("chmod", path) { chmod(path, file.isExecutable ? 0o755 : 0o644) }
        }
    }

    /// The address spawn-fcgi binds for a function, as its arguments.
    private func bind(_ manifest: Manifest) throws(HostingError) -> [String] {
        guard let backend = listen[manifest.name] else {
            let socket = deployment.spawnSocket(of: manifest)
            guard socket.utf8.count < 108 else {
                throw HostingError("socket path \(socket) is too long for a unix socket: use a shorter data directory")
            }
            return ["-s", socket, "-M", "0660"]
        }
        return ["-a", backend.host, "-p", String(backend.port)]
    }

    /// The script: the environment, then spawn-fcgi in the foreground (`-n`) handing its socket
    /// to multiwatch as fd 0, which forks the processes, restarts one that dies (three times in
    /// ten seconds at most, so a function that cannot start does not spin) and, when it is
    /// stopped, gives them its default SIGUSR1, a stop signal on which each finishes the request
    /// in hand. (multiwatch 1.0.0's `-s TERM` sends SIGQUIT, which a Swift process takes for a
    /// crash.)
    func script(for manifest: Manifest) throws(HostingError) -> String {
        var environment = deployment.environment(of: manifest)
        // The processes share one socket: a function that reads its queue takes its share.
        environment["FLASHSALE_PROCESSES_PER_SOCKET"] = String(manifest.processes.max)
        let exports = environment.sorted { $0.key < $1.key }.map {
            "export \($0.key)=\(Self.shellQuoted($0.value))"
        }
        let command =
            [spawnFCGI, "-n"] + (try bind(manifest))
            + ["--", multiwatch, "-f", String(manifest.processes.max), "-r", "3", "-t", "10000", "--"]
            + [deployment.executable(of: manifest)]
        return
            ([
                "#!/bin/sh",
                "# Written by `flashsale config spawn` from functions/\(manifest.name)/function.json; do not edit.",
                "# \(manifest.executableName) (\(manifest.route)), \(manifest.processes.max) processes on one socket.",
                "set -e",
            ] + exports + ["exec " + command.map(Self.shellQuoted).joined(separator: " ")]).joined(separator: "\n")
            + "\n"
    }

    /// The systemd unit: the script as a service, restarted if multiwatch itself exits.
    func unit(for manifest: Manifest) throws(HostingError) -> String {
        var lines = [
            "# Written by `flashsale config spawn`; do not edit.",
            "[Unit]",
            "Description=flashsale function \(manifest.name) (\(manifest.route))",
            // Its TCP address may need the network up; it is restarted however often it stops.
            "Wants=network-online.target",
            "After=network-online.target",
            "StartLimitIntervalSec=0",
            "",
            "[Service]",
            "ExecStart=\(try Self.unitQuoted(scriptPath(of: manifest)))",
        ]
        if owner.uid != 0 {
            lines += ["User=\(owner.uid)", "Group=\(owner.gid)"]
        }
        lines += [
            "Restart=always",
            "RestartSec=1",
            "KillMode=mixed",
            "TimeoutStopSec=15",
            "LimitNOFILE=16384",
            "",
            "[Install]",
            "WantedBy=multi-user.target",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// `value` in single quotes for sh.
    static func shellQuoted(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }

    /// A path for a unit's ExecStart: systemd expands `%` and `$`, doubled here.
    static func unitQuoted(_ value: String) throws(HostingError) -> String {
        guard ConfigString.canQuote(value), !value.contains("\"") else {
            throw HostingError(
                "\"\(value)\" holds a quote, a backslash or a control character, which a systemd unit cannot carry")
        }
        return "\"" + value.replacingOccurrences(of: "%", with: "%%").replacingOccurrences(of: "$", with: "$$") + "\""
    }
}
