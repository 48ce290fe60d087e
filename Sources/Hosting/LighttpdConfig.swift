import FastCGI
import Foundation
import HTTPTypes
import Storefront

/// Turns the template in lighttpd/ and the manifests in functions/ into the configuration
/// lighttpd runs: the `var.*` values, an include of the template, the static site's headers
/// (the same rules the CDN bundle carries) and one `fastcgi.server` entry per function, each
/// with its own sockets in the data directory.
public struct LighttpdConfig: Sendable {
    /// The longest unix socket path lighttpd can use (sun_path, less the `-N` it appends).
    static let maxSocketPathLength = 100

    public var data: DataDirectory
    public var template: String
    /// The folder served as the site: the storefront published into the data directory.
    public var staticDirectory: String
    public var binDirectory: String
    public var host: String
    public var port: Int
    public var manifests: [Manifest]

    public init(
        data: DataDirectory, template: String, staticDirectory: String, binDirectory: String,
        host: String, port: Int, manifests: [Manifest]
    ) {
        self.data = data
        self.template = template
        self.staticDirectory = staticDirectory
        self.binDirectory = binDirectory
        self.host = host
        self.port = port
        self.manifests = manifests
    }

    /// The host as lighttpd's `server.bind` and a URL take it: an IPv6 address in brackets.
    public var bracketedHost: String { Self.bracketed(host) }

    /// `host` as a URL takes it: an IPv6 address in brackets.
    public static func bracketed(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }

    /// The socket path of a function; lighttpd appends `-0`, `-1`, … per process.
    public func socket(of manifest: Manifest) -> String { "\(data.sockets)/\(manifest.name).sock" }

    /// The executable lighttpd spawns for a function.
    public func executable(of manifest: Manifest) -> String { "\(binDirectory)/\(manifest.executableName)" }

    /// The whole configuration text.
    public func render() throws(HostingError) -> String {
        var lines = [
            "# Written by `flashsale serve` from \(template) and the function manifests; do not edit.",
            "var.data_dir = \(try quoted(data.path))",
            "var.static_dir = \(try quoted(staticDirectory))",
            "var.bind = \(try quoted(bracketedHost))",
            "var.port = \(port)",
            "include \(try quoted(template))",
            "",
        ]
        lines += try staticHeaders()
        lines += ["", "fastcgi.server = ("]
        // Longest route first, so a longer prefix is never shadowed by a shorter one.
        for manifest in manifests.sorted(by: { ($0.route.count, $1.name) > ($1.route.count, $0.name) }) {
            lines += try block(for: manifest)
        }
        lines.append(")")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes the configuration and the JSON error bodies into the data directory.
    public func write() throws {
        try Self.errorPages().forEach { status, body in
            try Data(body).write(to: URL(fileURLWithPath: "\(data.errorPages)/\(status).html"), options: .atomic)
        }
        try Data(render().utf8).write(to: URL(fileURLWithPath: data.lighttpdConfig), options: .atomic)
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
        let routes = manifests.map { $0.route.replacingOccurrences(of: ".", with: "[.]") }.sorted()
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

    private func block(for manifest: Manifest) throws(HostingError) -> [String] {
        let socket = socket(of: manifest)
        guard socket.utf8.count <= Self.maxSocketPathLength else {
            throw HostingError("socket path \(socket) is too long for a unix socket: use a shorter data directory")
        }
        var environment = manifest.environment
        environment["FLASHSALE_DATA"] = data.path
        environment["FLASHSALE_MAX_BODY_BYTES"] = String(manifest.maxBodyBytes)
        environment["FLASHSALE_LOG"] = data.functionLog
        let pairs = try environment.sorted { $0.key < $1.key }.map { (key, value) throws(HostingError) in
            "\(try quoted(key)) => \(try quoted(value))"
        }
        return [
            "  \(try quoted(manifest.route)) => ((",
            "    \"socket\" => \(try quoted(socket)),",
            "    \"bin-path\" => \(try quoted(executable(of: manifest))),",
            "    \"max-procs\" => \(manifest.processes.max),",
            "    \"check-local\" => \"disable\",",
            "    \"bin-environment\" => ( \(pairs.joined(separator: ", ")) ),",
            "  )),",
        ]
    }

    /// Whether lighttpd's configuration can carry `value` in a string: it knows only `\"` as
    /// an escape, so a backslash (a trailing one ends the string early) or a control
    /// character cannot be written.
    public static func canQuote(_ value: String) -> Bool {
        !value.unicodeScalars.contains { $0 == "\\" || $0.properties.generalCategory == .control }
    }

    private func quoted(_ value: String) throws(HostingError) -> String {
        guard Self.canQuote(value) else {
            throw HostingError(
                "\"\(value)\" holds a backslash or control character, which lighttpd's configuration cannot carry")
        }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// The body lighttpd sends for each error status it produces itself, in the functions'
    /// JSON error format.
    public static func errorPages() -> [(status: Int, body: [UInt8])] {
        let pages: [(Int, ErrorCode, String)] = [
            (400, .badRequest, "the request is malformed"),
            (403, .forbidden, "access to this path is forbidden"),
            (404, .notFound, Router.notFoundMessage),
            (405, .methodNotAllowed, "this path does not accept the method"),
            (408, .badRequest, "the request took too long to arrive"),
            (411, .badRequest, "a request with a body needs a Content-Length"),
            (413, .payloadTooLarge, "the request body is larger than the server accepts"),
            (414, .badRequest, "the request URI is too long"),
            (416, .badRequest, "the requested range cannot be satisfied"),
            (417, .badRequest, "the expectation cannot be met"),
            (431, .badRequest, "the request headers are too large"),
            (500, .internal, "the server failed; the failure is logged"),
            (501, .badRequest, "the server does not implement this request"),
            (502, .internal, "the function answered badly; the failure is logged"),
            (503, .busy, "the function is busy or restarting; retry shortly"),
            (504, .internal, "the function did not answer in time"),
            (505, .badRequest, "the HTTP version is not supported"),
        ]
        return pages.map { status, code, message in
            (status, Response(error: HTTPError(code, message, status: HTTPResponse.Status(code: status))).body)
        }
    }
}
