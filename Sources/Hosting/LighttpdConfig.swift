import FastCGI
import Foundation
import HTTPTypes
import Storefront

/// Turns the template in lighttpd/ and a ``Deployment`` into the configuration lighttpd runs:
/// the `var.*` values, an include of the template, the static site's headers (the same rules
/// the CDN bundle carries) and one `fastcgi.server` entry per function: spawned by lighttpd
/// on its own sockets in the data directory, or the manifest's remote `backends`.
public struct LighttpdConfig: Sendable {
    /// The longest unix socket path lighttpd can use (sun_path, less the `-N` it appends).
    static let maxSocketPathLength = 100
    /// Seconds a process that refused a connection stays out of its pool (see `block(for:)`).
    static let disableTime = 0

    public var deployment: Deployment
    public var template: String

    public init(deployment: Deployment, template: String) {
        self.deployment = deployment
        self.template = template
    }

    /// The socket path of a function; lighttpd appends `-0`, `-1`, … per process.
    public func socket(of manifest: Manifest) -> String { "\(deployment.data.sockets)/\(manifest.name).sock" }

    /// The whole configuration text.
    public func render() throws(HostingError) -> String {
        var lines = [
            "# Written by `flashsale serve` from \(template) and the function manifests; do not edit.",
            "var.data_dir = \(try quoted(deployment.data.path))",
            "var.static_dir = \(try quoted(deployment.staticDirectory))",
            "var.bind = \(try quoted(deployment.bracketedHost))",
            "var.port = \(deployment.port)",
            "include \(try quoted(template))",
            "",
        ]
        lines += readTimeout() + [""]
        lines += try staticHeaders()
        lines += ["", "fastcgi.server = ("]
        for manifest in deployment.manifestsLongestRouteFirst {
            lines += try block(for: manifest)
        }
        lines.append(")")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes the configuration (to `path`, by default the data directory's lighttpd.conf)
    /// and the JSON error bodies into the data directory.
    public func write(to path: String? = nil) throws {
        try deployment.write(try render(), to: path ?? deployment.data.lighttpdConfig)
    }

    /// lighttpd's read and write timeouts: a connection that sends nothing for this long while
    /// a request is due is closed, and one that takes nothing of an answer for as long. Every
    /// byte starts the timer again, so it cannot bound a header trickled a byte at a time, nor
    /// can lighttpd cap an address's connections: under `serve` the ``ConnectionGuard`` does both.
    private func readTimeout() -> [String] {
        let limits = deployment.connections
        return [
            "# \(limits.readSeconds) s of silence for a request or a stalled reader; serve's guard also closes "
                + "a connection over "
                + (limits.capsAddresses ? "\(limits.perAddress) per address" : "no per-address cap (off)")
                + " or still sending a request unanswered after \(limits.readSeconds) s (docs/deploy.md).",
            "server.max-read-idle = \(limits.readSeconds)",
            "server.max-write-idle = \(limits.readSeconds)",
        ]
    }

    /// The security headers on every response; on static paths (none of the functions' routes)
    /// the real content types and the cache lifetimes of ``CachePolicy``, which mod_expire
    /// gives only to a file that exists (a 200). A function sets its own Cache-Control, so
    /// none is added to its answers. The front page and the sale pages
    /// are rewritten to their index.html, which spares mod_indexfile's directory lookups.
    private func staticHeaders() throws(HostingError) -> [String] {
        let pairs = { (entries: [(String, String)]) throws(HostingError) -> String in
            try entries.map { (name, value) throws(HostingError) in "\(try quoted(name)) => \(try quoted(value))" }
                .joined(separator: ", ")
        }
        // A route holds only letters, digits and / . _ - (see Manifest), so a dot is the one
        // character to escape, as [.]: lighttpd's strings cannot carry a backslash.
        let routes = deployment.manifests.map { $0.route.replacingOccurrences(of: ".", with: "[.]") }.sorted()
        let types = ContentTypes.byExtension.map { ($0.fileExtension, $0.type) } + [("", ContentTypes.fallback)]
        let pages = "^/(\(Storefront.salesFolder)/[a-z0-9-]+/)?([?].*)?$"
        return [
            "url.rewrite-once = ( \(try quoted(pages)) => \"/$1index.html$2\" )",
            "setenv.add-response-header = ( \(try pairs(SecurityHeaders.all.map { ($0.name, $0.value) })) )",
            "$HTTP[\"url\"] =~ \"^/(?!api/)\" {",
            "  mimetype.assign = ( \(try pairs(types)) )",
            "}",
            "$HTTP[\"url\"] =~ \"^/\(CachePolicy.assetsFolder)/\" {",
            "  expire.url = ( \"/\" => \"access plus \(CachePolicy.assetSeconds) seconds\" )",
            "}",
            "else $HTTP[\"url\"] !~ \(try quoted("^(" + routes.joined(separator: "|") + ")")) {",
            "  expire.url = ( \"/\" => \"access plus \(CachePolicy.pageSeconds) seconds\" )",
            "}",
        ]
    }

    /// A function's entry: the manifest's remote backends, or processes lighttpd spawns.
    ///
    /// When a spawned process dies, lighttpd answers the requests it had sent it (the one in
    /// hand and those in its socket's accept queue) with its own 500, and the socket refuses
    /// connections until the process is replaced. The first request refused marks the process
    /// disabled for `disable-time` seconds (1 by default) and goes to another process of the
    /// pool; a dead process is respawned at once when lighttpd reaps it, but a disabled one only
    /// once its time is over, on lighttpd's once-a-second timer: 1–2 s out of the pool per
    /// crash, and a few crashes in a row took the whole pool out, every request then answered
    /// 503 by lighttpd. With 0 the process is back at the next tick (under a second), and
    /// lighttpd still respawns a process at most once a second (its guard against a crash loop
    /// is the time of the death, not this setting). Measured in BENCHMARKS.md.
    private func block(for manifest: Manifest) throws(HostingError) -> [String] {
        if !manifest.remoteBackends.isEmpty {
            return ["  \(try quoted(manifest.route)) => ("]
                + (try manifest.remoteBackends.map { (backend) throws(HostingError) in
                    "    ( \"host\" => \(try quoted(backend.host)), \"port\" => \(backend.port), \"check-local\" => \"disable\" ),"
                }) + ["  ),"]
        }
        let socket = socket(of: manifest)
        guard socket.utf8.count <= Self.maxSocketPathLength else {
            throw HostingError("socket path \(socket) is too long for a unix socket: use a shorter data directory")
        }
        let pairs = try deployment.environment(of: manifest).sorted { $0.key < $1.key }.map {
            (key, value) throws(HostingError) in "\(try quoted(key)) => \(try quoted(value))"
        }
        return [
            "  \(try quoted(manifest.route)) => ((",
            "    \"socket\" => \(try quoted(socket)),",
            "    \"bin-path\" => \(try quoted(deployment.executable(of: manifest))),",
            "    \"max-procs\" => \(manifest.processes.max),",
            "    \"disable-time\" => \(Self.disableTime),",
            "    \"check-local\" => \"disable\",",
            "    \"bin-environment\" => ( \(pairs.joined(separator: ", ")) ),",
            "  )),",
        ]
    }

    private func quoted(_ value: String) throws(HostingError) -> String {
        try ConfigString.quoted(value, for: "lighttpd's configuration")
    }
}
