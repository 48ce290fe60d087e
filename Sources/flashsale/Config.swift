import ArgumentParser
import Backends
import Basics
import Foundation
import Hosting

struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a web server's configuration from functions/ and the data directory.",
        discussion: """
            Each host serves the same routes, limits, headers and JSON errors as `flashsale serve`. \
            The storefront is published into the data directory first, as `serve` does. See docs/deploy.md.
            """,
        subcommands: [
            ConfigApache.self, ConfigNginx.self, ConfigSpawn.self, ConfigLighttpd.self, ConfigSystemd.self,
        ]
    )
}

/// What every `config` subcommand takes: the data directory, where to listen, the built
/// functions, the project, and where to write.
struct ConfigOptions: ParsableArguments {
    @OptionGroup var data: DataOption
    @OptionGroup var listen: ListenOptions
    @OptionGroup var root: RootOption

    @Option(help: "Where to write (default: in the data directory).")
    var out: String?

    /// Checks the data directory and describes the deployment.
    func deployment() throws -> Deployment {
        try data.directory.checkUsable()
        return try listen.deployment(data: data.directory, manifests: try root.manifests())
    }

    /// Writes a web server's configuration to `--out`, else `file` in the data directory, and
    /// prints `howTo(path)`. `render` makes the text (refusing what the server cannot carry);
    /// only then is the storefront it serves published, as `serve` does, and the text written
    /// with the JSON error bodies: a mistake leaves the data directory as it was.
    func writeServer(
        _ file: String, howTo: (String) -> String, render: (Deployment) throws -> String
    ) throws {
        let path = output(default: file)
        try writing(path, next: howTo(path)) {
            let deployment = try deployment()
            let text = try render(deployment)
            let directory = deployment.data
            try directory.publishSite(
                try root.storefront(), sales: try AnySaleStore(opening: directory).sales())
            try deployment.write(text, to: path)
        }
    }

    /// `--out`, else `name` in the data directory.
    func output(default name: String) -> String { absolutePath(out ?? "\(data.directory.path)/\(name)") }
}

/// What one client address may take of the host: shared by `serve`, `demo` and every `config`
/// subcommand through ``ListenOptions``.
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: .customLong("connections-per-address"),
        help: ArgumentHelp(
            "Connections one client address may hold at once; 0 for no cap (a CDN in front: see docs/deploy.md).",
            valueName: "n"))
    var perAddress = ConnectionLimits.defaultPerAddress

    @Option(
        name: .customLong("read-timeout"),
        help: ArgumentHelp("Seconds a request's header and body have to arrive.", valueName: "seconds"))
    var readSeconds = ConnectionLimits.defaultReadSeconds

    func validate() throws {
        guard perAddress >= 0 else { throw ValidationError("--connections-per-address \(perAddress) is below 0") }
        guard (1...3600).contains(readSeconds) else {
            throw ValidationError("--read-timeout \(readSeconds) is not between 1 and 3600 seconds")
        }
    }

    var limits: ConnectionLimits { ConnectionLimits(perAddress: perAddress, readSeconds: readSeconds) }
}

/// Runs `body` and prints what it wrote and how to use it.
private func writing(_ path: String, next: String, _ body: () throws -> Void) throws {
    try runReporting {
        try body()
        print("flashsale: wrote \(path)\n\(next)")
    }
}

struct ConfigApache: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apache",
        abstract:
            "Apache 2.4: mod_fcgid spawns the functions, or mod_proxy_fcgi reaches them on spawn sockets or remote backends."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "The folder of Apache's modules.")
    var modules = ApacheConfig.debianModules

    @Option(
        help: ArgumentHelp(
            "Who runs the functions: fcgid (mod_fcgid starts them) or spawn (they run under `config spawn`, reached by mod_proxy_fcgi).",
            valueName: "fcgid|spawn"))
    var functions: ApacheConfig.Functions = .fcgid

    func run() throws {
        try options.writeServer(
            "apache.conf", howTo: { "check: apache2 -t -f \($0)\nrun:   apache2 -f \($0) -DFOREGROUND" }
        ) { deployment in
            try ApacheConfig(
                deployment: deployment, functions: functions, owner: try deployment.data.owner(),
                moduleDirectory: modules
            ).render()
        }
    }
}

struct ConfigNginx: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nginx",
        abstract: "nginx: fastcgi_pass to the functions' sockets (run them with `config spawn`) or remote backends.")

    @OptionGroup var options: ConfigOptions

    func run() throws {
        try options.writeServer(
            "nginx.conf", howTo: { "check: nginx -t -c \($0)\nrun:   nginx -c \($0) -g 'daemon off;'" }
        ) { deployment in
            try NginxConfig(deployment: deployment, owner: try deployment.data.owner()).render()
        }
    }
}

struct ConfigSpawn: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spawn",
        abstract: "A spawn-fcgi script and a systemd unit per function, to run functions apart from the web server.")

    @OptionGroup var options: ConfigOptions

    @Option(
        name: .customLong("listen"),
        help: ArgumentHelp(
            "Run a function on TCP instead of its unix socket, as NAME=HOST:PORT (repeatable).",
            valueName: "name=host:port"))
    var listen: [String] = []

    @Option(help: "Write only these functions (repeatable; default: every function).")
    var only: [String] = []

    func run() throws {
        let directory = options.output(default: "spawn")
        try writing(directory, next: "run a function: \(directory)/<name>.sh   or install its flashsale-<name>.service")
        {
            var deployment = try options.deployment()
            if !only.isEmpty {
                for name in only where !deployment.manifests.contains(where: { $0.name == name }) {
                    throw ValidationError("--only \(name): no such function")
                }
                deployment.manifests = deployment.manifests.filter { only.contains($0.name) }
            }
            var addresses: [String: Backend] = [:]
            for entry in listen {
                guard let equals = entry.firstIndex(of: "=") else {
                    throw ValidationError("--listen wants NAME=HOST:PORT, not \(entry)")
                }
                addresses[String(entry[..<equals])] = try Backend(String(entry[entry.index(after: equals)...]))
            }
            try SpawnConfig(
                deployment: deployment, directory: directory, listen: addresses, owner: try deployment.data.owner()
            ).write()
        }
    }
}

struct ConfigLighttpd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lighttpd",
        abstract:
            "lighttpd, as `serve` runs it: spawns the functions, or balances a function across its remote backends.")

    @OptionGroup var options: ConfigOptions

    func run() throws {
        try options.writeServer(
            "lighttpd.conf", howTo: { "check: lighttpd -tt -f \($0)\nrun:   lighttpd -D -f \($0)" }
        ) { deployment in
            try LighttpdConfig(deployment: deployment, template: options.root.lighttpdTemplate).render()
        }
    }
}

struct ConfigSystemd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "systemd",
        abstract: "A systemd unit that runs `flashsale serve` as a service and restarts it whenever it exits.")

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let path = options.output(default: ServeUnit.fileName)
        try writing(
            path,
            next: "install: sudo cp \(path) /etc/systemd/system/ && sudo systemctl daemon-reload\n"
                + "run:     sudo systemctl enable --now flashsale-serve"
        ) {
            let deployment = try options.deployment()
            let unit = ServeUnit(
                deployment: deployment, root: options.root.directory,
                flashsale: try executableDirectory() + "/flashsale", owner: try deployment.data.owner())
            try Data(try unit.render().utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        }
    }
}

extension ApacheConfig.Functions: ExpressibleByArgument {}
