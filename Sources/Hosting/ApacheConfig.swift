import Basics
import Storefront

/// Apache 2.4 serving a ``Deployment``: a whole server configuration, run with
/// `apache2 -f <file> -DFOREGROUND`. mod_fcgid spawns each function with its manifest's
/// process limits and environment, and starts it again when it dies; or, with
/// ``Functions/spawned``, mod_proxy_fcgi passes each route to the function's spawn socket
/// (``SpawnConfig``). A function with remote `backends` is reached through mod_proxy_fcgi
/// either way. The site, its content types, cache lifetimes and security headers, the
/// request-size limits and the JSON error bodies are the ones lighttpd serves.
public struct ApacheConfig: Sendable {
    /// Who runs the functions that have no remote backends.
    public enum Functions: String, Sendable, CaseIterable {
        /// mod_fcgid starts them, one request per process at a time. A request that finds
        /// every process busy waits in steps of a whole second (mod_fcgid's own pause).
        case fcgid
        /// They run apart under spawn-fcgi, their processes sharing one socket whose queue
        /// the kernel keeps; mod_proxy_fcgi connects to it.
        case spawned = "spawn"
    }

    /// Where Debian's apache2 package keeps its modules.
    public static let debianModules = "/usr/lib/apache2/modules"
    /// The URL path the JSON error bodies are served under, to Apache's own error handling only.
    static let errorsPath = "/.flashsale/errors/"

    public var deployment: Deployment
    public var functions: Functions
    public var moduleDirectory: String
    /// The account Apache runs its workers and the functions as, when started as root.
    public var owner: FileOwner

    public init(
        deployment: Deployment, functions: Functions = .fcgid, owner: FileOwner,
        moduleDirectory: String = Self.debianModules
    ) {
        self.deployment = deployment
        self.functions = functions
        self.owner = owner
        self.moduleDirectory = moduleDirectory
    }

    /// Apache's pid file, in the data directory's run folder, named by port, so that two
    /// instances on one data directory keep apart.
    public var pidFile: String { deployment.data.sockets + "/apache-\(deployment.port).pid" }

    /// Writes the configuration to `path` and the JSON error bodies into the data directory.
    public func write(to path: String) throws {
        try deployment.write(try render(), to: path)
    }

    /// The whole configuration text.
    public func render() throws(HostingError) -> String {
        try deployment.checkQuotable()
        try deployment.checkRunsAs(owner, refusing: "Apache will not run functions as root")
        let data = deployment.data
        var lines = [
            "# Written by `flashsale config apache` from the function manifests; do not edit.",
            "# Run: apache2 -f <this file> -DFOREGROUND   Check: apache2 -t -f <this file>",
            "ServerRoot \(try quoted(data.path))",
            // Only a name: Apache reads anything after a colon as a port, so an IPv6 address
            // cannot be one; self-referring URLs use the request's Host (UseCanonicalName Off).
            "ServerName localhost",
            "Listen \(deployment.bracketedHost):\(deployment.port)",
            "PidFile \(try quoted(pidFile))",
            "DefaultRuntimeDir \(try quoted(data.sockets))",
            "ErrorLog \(try quoted(data.logs + "/apache-error.log"))",
            "LogLevel warn",
            // Started as root, Apache gives up root for the data directory's owner, who can
            // read its keys; started as that user, these two lines change nothing.
            "User #\(owner.uid)",
            "Group #\(owner.gid)",
            "ServerTokens Prod",
            "ServerSignature Off",
            "TypesConfig /dev/null",
            "KeepAlive On",
            "MaxKeepAliveRequests 1000",
            "KeepAliveTimeout 5",
            "",
        ]
        lines += try modules().map { (name) throws(HostingError) in
            "LoadModule \(name)_module \(try quoted("\(moduleDirectory)/mod_\(name).so"))"
        }
        // Up to 1,024 connections in flight, and no child stopped for having too many idle
        // threads: stopping one closes its buyers' keep-alive connections mid-crowd.
        lines += [
            "StartServers 2", "ServerLimit 16", "ThreadsPerChild 64", "MaxRequestWorkers 1024",
            "MinSpareThreads 64", "MaxSpareThreads 1024",
        ]
        lines += try site() + [""] + (try limitsAndErrors()) + [""] + connectionLimits() + [""]
        if spawns {
            lines += [
                "FcgidIPCDir \(try quoted(data.sockets + "/fcgid"))",
                "FcgidProcessTableFile \(try quoted(data.sockets + "/fcgid-\(deployment.port).shm"))",
                "FcgidMaxRequestLen \(Deployment.maxRequestBytes)",
            ]
        }
        if proxies { lines.append("ProxyFCGIBackendType GENERIC") }
        lines += [""]
        for manifest in deployment.manifestsLongestRouteFirst.reversed() {
            lines += try function(manifest) + [""]
        }
        return lines.joined(separator: "\n")
    }

    /// Whether mod_fcgid starts a function.
    private var spawns: Bool { functions == .fcgid && deployment.manifests.contains { $0.remoteBackends.isEmpty } }

    /// Whether a function is reached through mod_proxy_fcgi.
    private var proxies: Bool { functions == .spawned || deployment.manifests.contains { !$0.remoteBackends.isEmpty } }

    private func modules() -> [String] {
        var names = ["mpm_event", "authz_core", "mime", "dir", "alias", "headers", "expires", "rewrite", "reqtimeout"]
        if spawns { names.append("fcgid") }
        if proxies {
            names += ["proxy", "proxy_fcgi", "proxy_balancer", "slotmem_shm", "lbmethod_byrequests"]
        }
        return names
    }

    /// The published site, with lighttpd's content types, headers and cache lifetimes: mod_expires
    /// gives a lifetime only to a 200, and none to the functions' routes.
    private func site() throws(HostingError) -> [String] {
        let routes = deployment.manifests.map { $0.route.replacingOccurrences(of: ".", with: "[.]") }.sorted()
        return [
            "DocumentRoot \(try quoted(deployment.staticDirectory))",
            "<Directory \"/\">",
            "  AllowOverride None",
            "  Require all denied",
            "</Directory>",
            "<Directory \(try quoted(deployment.staticDirectory))>",
            "  Options FollowSymLinks",
            "  Require all granted",
            "</Directory>",
            "DirectoryIndex index.html",
        ]
            + (try ContentTypes.byExtension.map { (entry) throws(HostingError) in
                "AddType \(try quoted(entry.type)) \(entry.fileExtension)"
            })
            + (try SecurityHeaders.all.map { (header) throws(HostingError) in
                "Header always set \(header.name) \(try quoted(header.value))"
            })
            + [
                "<LocationMatch \(try quoted("^(?!" + routes.joined(separator: "|") + ")"))>",
                "  ExpiresActive On",
                "  ExpiresDefault \"access plus \(CachePolicy.pageSeconds) seconds\"",
                "</LocationMatch>",
                "<Location \"/\(CachePolicy.assetsFolder)/\">",
                "  ExpiresDefault \"access plus \(CachePolicy.assetSeconds) seconds\"",
                "</Location>",
            ]
    }

    /// The 64 KiB request cap, answered 413 before any function is started (only requests that
    /// may carry a body look at Content-Length, so a GET's answer does not vary by it), and
    /// Apache's own errors under /api/ as the functions' JSON.
    private func limitsAndErrors() throws(HostingError) -> [String] {
        let errors = deployment.data.errorPages + "/"
        return [
            "LimitRequestBody \(Deployment.maxRequestBytes)",
            "LimitRequestFieldSize 8192",
            "RewriteEngine On",
            "RewriteCond %{REQUEST_METHOD} !^(GET|HEAD|OPTIONS)$",
            "RewriteCond expr \"%{HTTP:Content-Length} -gt \(Deployment.maxRequestBytes)\"",
            "RewriteRule ^ - [R=413,L]",
            "Alias \(Self.errorsPath) \(try quoted(errors))",
            "<Directory \(try quoted(errors))>",
            "  ForceType application/json",
            "  <If \"-z %{ENV:REDIRECT_STATUS}\">",
            "    Require all denied",
            "  </If>",
            "  <Else>",
            "    Require all granted",
            "  </Else>",
            "</Directory>",
            "<LocationMatch \"^/api/\">",
        ]
            + Deployment.errorPages().map { "  ErrorDocument \($0.status) \(Self.errorsPath)\($0.status).html" }
            + ["</LocationMatch>"]
    }

    /// One client cannot hold the door: mod_reqtimeout gives a header the read timeout, one
    /// more second per 500 bytes up to twice that, however it is trickled, and a body the
    /// same. Apache has no per-address cap of its own, and the one module that adds it on
    /// Debian 12 (libapache2-mod-qos 11.63, built for PCRE1) does not load into its Apache
    /// (undefined symbol pcre_free): the cap comes from in front (docs/deploy.md).
    private func connectionLimits() -> [String] {
        let (least, most) = (deployment.connections.readSeconds, deployment.connections.readSeconds * 2)
        return ["RequestReadTimeout header=\(least)-\(most),MinRate=500 body=\(least)-\(most),MinRate=500"]
    }

    /// A function's route: proxied to its remote backends or its spawn socket, or spawned by mod_fcgid.
    private func function(_ manifest: Manifest) throws(HostingError) -> [String] {
        let route = try quoted(manifest.route)
        if !manifest.remoteBackends.isEmpty {
            let balancer = "balancer://flashsale-\(manifest.name)"
            return ["<Proxy \"\(balancer)\">"]
                // A member that failed is tried again after a second, not mod_proxy's minute.
                + manifest.remoteBackends.map { "  BalancerMember \"fcgi://\($0)\" retry=1" }
                + [
                    "</Proxy>",
                    "<Location \(route)>",
                    // The rest of the path is appended to the target: a route ending in / keeps
                    // the / after the balancer's name. Functions read REQUEST_URI, unchanged.
                    "  ProxyPass \"\(balancer)\(manifest.route.hasSuffix("/") ? "/" : "")\"",
                    "  CGIPassAuth On",
                    "</Location>",
                ]
        }
        if functions == .spawned {
            let target = "unix:\(deployment.spawnSocket(of: manifest))|fcgi://flashsale-\(manifest.name)"
            return [
                "<Location \(route)>",
                // retry=0: a socket back after a restart is used at once, not after a minute.
                "  ProxyPass \(try quoted(target + (manifest.route.hasSuffix("/") ? "/" : ""))) retry=0",
                "  CGIPassAuth On",
                "</Location>",
            ]
        }
        let executable = try quoted(deployment.executable(of: manifest))
        let environment = try deployment.environment(of: manifest).sorted { $0.key < $1.key }.map {
            (key, value) throws(HostingError) in "InitialEnv \(try quoted("\(key)=\(value)"))"
        }
        return [
            // IdleTimeout 0: a process once started is kept, not let go after five idle minutes.
            "FcgidCmdOptions \(executable) MaxProcesses \(manifest.processes.max) "
                + "MinProcesses \(manifest.processes.min) IdleTimeout 0 \(environment.joined(separator: " "))",
            "<Location \(route)>",
            "  SetHandler fcgid-script",
            "  FcgidWrapper \(executable) virtual",
            "  Options +ExecCGI",
            "  CGIPassAuth On",
            "</Location>",
        ]
    }

    /// A string in Apache's double quotes; Apache would expand `${NAME}` inside one, so that
    /// cannot be written.
    private func quoted(_ value: String) throws(HostingError) -> String {
        try ConfigString.quoted(value, for: "Apache's configuration", expanded: ["${"])
    }
}
