import Basics
/// The systemd unit that runs `flashsale serve` itself as a service, the supervisor above it:
/// serve restarts a lighttpd that dies, and exits (``LighttpdRestarts/gaveUpStatus``) when it
/// keeps dying or on any failure; `Restart=always` then starts serve again, which first stops
/// whatever the previous one left. Stopping the service sends SIGTERM to serve alone, which
/// stops lighttpd gracefully and then every function; what is left when the stop times out is
/// killed with the whole control group.
public struct ServeUnit: Sendable {
    public var deployment: Deployment
    /// The project folder (`--root`): functions/ and lighttpd/.
    public var root: String
    /// The `flashsale` executable the unit runs.
    public var flashsale: String
    /// The account serve runs as: the data directory's owner.
    public var owner: FileOwner

    public init(deployment: Deployment, root: String, flashsale: String, owner: FileOwner) {
        self.deployment = deployment
        self.root = root
        self.flashsale = flashsale
        self.owner = owner
    }

    /// The unit's file name.
    public static let fileName = "flashsale-serve.service"

    /// The unit's text.
    public func render() throws(HostingError) -> String {
        let arguments = [
            flashsale, "serve", "--data", deployment.data.path, "--host", deployment.host, "--port",
            String(deployment.port), "--root", root, "--bin", deployment.binDirectory,
        ]
        let command = try arguments.map { (argument) throws(HostingError) in try SpawnConfig.unitQuoted(argument) }
        var lines = [
            "# Written by `flashsale config systemd`; do not edit.",
            "[Unit]",
            "Description=flashsale serve: lighttpd and the functions on \(deployment.bracketedHost):\(deployment.port)",
            "Wants=network-online.target",
            "After=network-online.target",
            // Started again however often it exits: a sale day has no one to reset a limit.
            "StartLimitIntervalSec=0",
            "",
            "[Service]",
            "ExecStart=\(command.joined(separator: " "))",
        ]
        if owner.uid != 0 {
            lines += ["User=\(owner.uid)", "Group=\(owner.gid)"]
            if deployment.port < 1024 { lines.append("AmbientCapabilities=CAP_NET_BIND_SERVICE") }
        }
        lines += [
            "Restart=always",
            "RestartSec=2",
            "KillMode=mixed",
            // serve's own stop: lighttpd's graceful 5 s, then the functions', each bounded by 8 s.
            "TimeoutStopSec=30",
            "LimitNOFILE=16384",
            "",
            "[Install]",
            "WantedBy=multi-user.target",
        ]
        return lines.joined(separator: "\n") + "\n"
    }
}
