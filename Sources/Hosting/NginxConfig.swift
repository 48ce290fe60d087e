import Basics
import Storefront

/// nginx serving a ``Deployment``: a whole configuration, run with
/// `nginx -c <file> -g 'daemon off;'`. nginx starts no processes: each function runs apart
/// (``SpawnConfig``) on its unix socket in the data directory, or on the manifest's remote
/// `backends`, and nginx passes requests to it with `fastcgi_pass`. The site, its content
/// types, cache lifetimes and security headers, the request-size limits and the JSON error
/// bodies are the ones lighttpd serves.
public struct NginxConfig: Sendable {
    static let errorsPath = "/.flashsale/errors/"
    /// The shared-memory zone counting each client address's connections.
    static let addressZone = "flashsale_addresses"

    public var deployment: Deployment
    /// The account nginx's workers run as when it is started as root: the data directory's
    /// owner, who may read the site and connect to the functions' sockets.
    public var owner: FileOwner

    public init(deployment: Deployment, owner: FileOwner) {
        self.deployment = deployment
        self.owner = owner
    }

    /// nginx's pid file, in the data directory's run folder, named by port, as Apache's is.
    public var pidFile: String { deployment.data.sockets + "/nginx-\(deployment.port).pid" }

    /// Writes the configuration to `path` and the JSON error bodies into the data directory.
    public func write(to path: String) throws {
        try deployment.write(try render(), to: path)
    }

    /// The whole configuration text.
    public func render() throws(HostingError) -> String {
        try deployment.checkQuotable()
        try deployment.checkRunsAs(owner, refusing: "nginx's workers should not run as root")
        let data = deployment.data
        var lines = [
            "# Written by `flashsale config nginx` from the function manifests; do not edit.",
            "# Run: nginx -c <this file> -g 'daemon off;'   Check: nginx -t -c <this file>",
            "# The functions run apart: `flashsale config spawn` writes how to start them.",
            "pid \(try quoted(pidFile));",
            "error_log \(try quoted(data.logs + "/nginx-error.log")) warn;",
        ]
        lines.append(
            "user \(try quoted(owner.userName ?? String(owner.uid))) \(try quoted(owner.groupName ?? String(owner.gid)));"
        )
        lines += [
            "worker_processes auto;",
            "worker_rlimit_nofile 16384;",
            "events {",
            "  worker_connections 8192;",
            "}",
            "http {",
            "  access_log off;",
            "  server_tokens off;",
            "  sendfile on;",
            // Open files kept (a quarter more static answers a second); a page published
            // again, by rename, is seen within the second.
            "  open_file_cache max=10000 inactive=30s;",
            "  open_file_cache_valid 1s;",
            "  keepalive_requests 1000;",
            "  keepalive_timeout 5s;",
            "  client_max_body_size \(Deployment.maxRequestBytes);",
            "  large_client_header_buffers 4 8k;",
        ]
        lines += connectionLimits()
        lines += try ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map { (kind) throws(HostingError) in
            "  \(kind)_temp_path \(try quoted("\(data.uploads)/nginx-\(kind)"));"
        }
        lines += ["  types {"]
        lines += try ContentTypes.byExtension.map { (entry) throws(HostingError) in
            "    \(try quoted(entry.type)) \(entry.fileExtension.dropFirst());"
        }
        lines += ["  }", "  default_type \(ContentTypes.fallback);"]
        // A GET carries no Content-Type or Content-Length: they are passed only when present,
        // as the other hosts do.
        lines += fastCGIParameters().map {
            "  fastcgi_param \($0.name) \($0.value)\($0.value.hasPrefix("$content_") ? " if_not_empty" : "");"
        }
        for manifest in deployment.manifests {
            lines += ["  upstream flashsale-\(manifest.name) {"]
            lines += try servers(of: manifest).map { "    server \($0);" }
            lines += ["  }"]
        }
        lines += try server()
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// One client cannot hold the door: a request's header must arrive whole within the read
    /// timeout (nginx's timer is not started again by each byte) and its body with no gap as
    /// long, an answer the client stops reading is dropped as soon, and timed-out connections
    /// are reset, not lingered on. An address holds at most the cap of connections with a
    /// request in hand (limit_conn counts a connection once its header is read: the timeout
    /// is what bounds those still sending one); a trusted proxy is not capped. An IPv6
    /// client counts by its /64 (``subscriberMap``).
    private func connectionLimits() -> [String] {
        let limits = deployment.connections
        var lines = [
            "  client_header_timeout \(limits.readSeconds)s;",
            "  client_body_timeout \(limits.readSeconds)s;",
            "  send_timeout \(limits.readSeconds)s;",
            "  reset_timedout_connection on;",
        ]
        guard limits.capsAddresses else { return lines }
        lines += Self.subscriberMap
        let proxies = deployment.trustedProxies
        if proxies.isEmpty {
            lines.append("  limit_conn_zone $flashsale_subscriber zone=\(Self.addressZone):10m;")
        } else {
            lines += ["  geo $flashsale_trusted_proxy {", "    default 0;"] + proxies.map { "    \($0) 1;" }
            lines += [
                "  }",
                "  map $flashsale_trusted_proxy $flashsale_capped_address {",
                "    0 $flashsale_subscriber;",
                "    default \"\";",
                "  }",
                "  limit_conn_zone $flashsale_capped_address zone=\(Self.addressZone):10m;",
            ]
        }
        return lines + ["  limit_conn \(Self.addressZone) \(limits.perAddress);"]
    }

    /// `$flashsale_subscriber`: what a client's connections count against, its IPv4 address or
    /// its IPv6 /64 as its first four groups. nginx has no prefix function, so it is read from
    /// `$remote_addr`'s spelling (lowercase, no leading zeros, the longest run of two or more
    /// zero groups as `::`): the four groups written out, or those before a `::` that covers
    /// the rest of the /64. The few spellings left (a `::` whose groups after it reach into the
    /// /64, an IPv4-mapped address) count by the whole address, as before.
    static let subscriberMap: [String] = {
        let group = "[0-9a-f]+"
        let rest = "(?:\(group)(?::\(group)){0,3})?$"
        return [
            "  map $remote_addr $flashsale_subscriber {",
            "    \"~^(?<flashsale_prefix>\(group):\(group):\(group):\(group)):\" $flashsale_prefix;",
            "    \"~^(?<flashsale_prefix>\(group):\(group):\(group))::\(rest)\" $flashsale_prefix:0;",
            "    \"~^(?<flashsale_prefix>\(group):\(group))::\(rest)\" $flashsale_prefix:0:0;",
            "    \"~^(?<flashsale_prefix>\(group))::\(rest)\" $flashsale_prefix:0:0:0;",
            "    \"~^::\(rest)\" 0:0:0:0;",
            "    default $remote_addr;",
            "  }",
        ]
    }()

    /// Where a function's processes listen: the spawn socket, or its remote backends.
    private func servers(of manifest: Manifest) throws(HostingError) -> [String] {
        guard manifest.remoteBackends.isEmpty else { return manifest.remoteBackends.map(\.description) }
        return [try quoted("unix:" + deployment.spawnSocket(of: manifest))]
    }

    private func server() throws(HostingError) -> [String] {
        let jsonErrors = Deployment.errorPages().map {
            "      error_page \($0.status) \(Self.errorsPath)\($0.status).html;"
        }
        var lines = [
            "  server {",
            "    listen \(deployment.bracketedHost):\(deployment.port);",
            "    root \(try quoted(deployment.staticDirectory));",
            "    index index.html;",
        ]
        lines += try SecurityHeaders.all.map { (header) throws(HostingError) in
            "    add_header \(header.name) \(try quoted(header.value)) always;"
        }
        lines += [
            "    location / {",
            "      expires \(CachePolicy.pageSeconds)s;",
            "    }",
            "    location /\(CachePolicy.assetsFolder)/ {",
            "      expires \(CachePolicy.assetSeconds)s;",
            "    }",
            "    location \(Self.errorsPath) {",
            "      internal;",
            "      alias \(try quoted(deployment.data.errorPages + "/"));",
            "      types { }",
            "      default_type application/json;",
            "    }",
            // Under /api/ nginx's own errors are the functions' JSON, and a path no function
            // owns is a JSON 404; function routes elsewhere (sale.js) answer for themselves.
            "    location /api/ {",
        ]
        lines += jsonErrors + ["      return 404;"]
        for manifest in deployment.manifestsLongestRouteFirst where manifest.route.hasPrefix("/api/") {
            lines += [
                "      location \(try quoted(manifest.route)) {", "        fastcgi_pass flashsale-\(manifest.name);",
            ]
            lines += ["      }"]
        }
        lines += ["    }"]
        for manifest in deployment.manifestsLongestRouteFirst where !manifest.route.hasPrefix("/api/") {
            lines += [
                "    location \(try quoted(manifest.route)) {", "      fastcgi_pass flashsale-\(manifest.name);",
                "    }",
            ]
        }
        lines.append("  }")
        return lines
    }

    /// The CGI variables a function reads, from nginx's request variables.
    private func fastCGIParameters() -> [(name: String, value: String)] {
        [
            ("REQUEST_METHOD", "$request_method"), ("REQUEST_URI", "$request_uri"), ("QUERY_STRING", "$query_string"),
            ("CONTENT_TYPE", "$content_type"), ("CONTENT_LENGTH", "$content_length"),
            ("SCRIPT_NAME", "$fastcgi_script_name"), ("DOCUMENT_URI", "$document_uri"),
            ("SERVER_PROTOCOL", "$server_protocol"), ("REQUEST_SCHEME", "$scheme"), ("HTTPS", "$https"),
            ("GATEWAY_INTERFACE", "CGI/1.1"), ("REMOTE_ADDR", "$remote_addr"), ("REMOTE_PORT", "$remote_port"),
            ("SERVER_ADDR", "$server_addr"), ("SERVER_PORT", "$server_port"), ("SERVER_NAME", "$server_name"),
        ]
    }

    /// A string in nginx's double quotes; nginx would expand `$name` inside one, so a dollar
    /// cannot be written.
    private func quoted(_ value: String) throws(HostingError) -> String {
        try ConfigString.quoted(value, for: "nginx's configuration", expanded: ["$"])
    }
}
