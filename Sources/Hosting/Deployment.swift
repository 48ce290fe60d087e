import Basics
import FastCGI
import Foundation
import HTTPTypes

/// What every host's configuration is made from: the data directory, the folder of the built
/// functions, the address to listen on and the function manifests. lighttpd, Apache, nginx
/// and spawn-fcgi each render it their own way (``LighttpdConfig``, ``ApacheConfig``,
/// ``NginxConfig``, ``SpawnConfig``) and so serve the same routes, limits and headers.
public struct Deployment: Sendable {
    public var data: DataDirectory
    /// The folder served as the site: the storefront published into the data directory.
    public var staticDirectory: String
    public var binDirectory: String
    public var host: String
    public var port: Int
    public var manifests: [Manifest]
    /// What one client address may take of the host (``ConnectionLimits``).
    public var connections: ConnectionLimits

    public init(
        data: DataDirectory, staticDirectory: String, binDirectory: String, host: String, port: Int,
        manifests: [Manifest], connections: ConnectionLimits = ConnectionLimits()
    ) {
        self.data = data
        self.staticDirectory = staticDirectory
        self.binDirectory = binDirectory
        self.host = host
        self.port = port
        self.manifests = manifests
        self.connections = connections
    }

    /// The host as a URL and every server's listen directive take it: an IPv6 address in brackets.
    public var bracketedHost: String { ConfigString.bracketed(host) }

    /// The manifests, longest route first, so a longer prefix is never shadowed by a shorter one.
    public var manifestsLongestRouteFirst: [Manifest] {
        manifests.sorted { ($0.route.count, $1.name) > ($1.route.count, $0.name) }
    }

    /// The addresses some manifest names in `FLASHSALE_TRUSTED_PROXIES`: a CDN or load balancer
    /// in front, from which many buyers' connections arrive, so no per-address cap applies to
    /// them (the proxy limits its own clients). Read as the functions read them
    /// (``NetworkAddress``), in one spelling; what is no address is left out (the functions
    /// refuse to start with it).
    public var trustedProxies: [NetworkAddress] {
        let lists = manifests.compactMap { $0.environment["FLASHSALE_TRUSTED_PROXIES"] }
        let addresses = lists.flatMap { $0.split(separator: ",") }.compactMap {
            NetworkAddress($0.trimmingCharacters(in: .whitespaces))
        }
        return Set(addresses).sorted { $0.description < $1.description }
    }

    /// The executable of a function.
    public func executable(of manifest: Manifest) -> String { "\(binDirectory)/\(manifest.executableName)" }

    /// The unix socket a function listens on when it is started apart from the web server
    /// (`flashsale config spawn`), all its processes sharing it: what nginx and Apache's
    /// mod_proxy_fcgi connect to.
    public func spawnSocket(of manifest: Manifest) -> String { "\(data.sockets)/\(manifest.name).spawn.sock" }

    /// How a function process reports a crash, unless its manifest sets `SWIFT_BACKTRACE`: the
    /// crashed thread's return addresses and the images they lie in (with build ids), not
    /// symbolicated. That costs a crash about 50 ms and 10 ms of CPU instead of the runtime
    /// default's 0.7-1.7 s at full CPU (symbolication), so a crash loop is no CPU storm.
    /// `addr2line -f -e IMAGE OFFSET | swift demangle` (the address less the image's start)
    /// symbolicates one afterwards; a manifest's `"SWIFT_BACKTRACE": "enable=yes"` brings back
    /// the full report (docs/deploy.md).
    public static let crashReport = "enable=yes,symbolicate=off,threads=crashed,registers=none,images=mentioned"

    /// A function's environment: its manifest's, the data directory, its body cap, its log and
    /// its crash report (``crashReport``).
    public func environment(of manifest: Manifest) -> [String: String] {
        var environment = manifest.environment
        environment["SWIFT_BACKTRACE"] = manifest.environment["SWIFT_BACKTRACE"] ?? Self.crashReport
        environment[DataDirectory.environmentVariable] = data.path
        environment["FLASHSALE_MAX_BODY_BYTES"] = String(manifest.maxBodyBytes)
        environment["FLASHSALE_LOG"] = data.functionLog
        return environment
    }

    /// Checks that every path and value can be written into a configuration: none holds a
    /// backslash or a control character (lighttpd has no escape for them, and the other
    /// hosts' files are kept to the same rule).
    public func checkQuotable() throws(HostingError) {
        let paths = [data.path, staticDirectory, binDirectory]
        for value in paths + manifests.flatMap({ environment(of: $0).values }) where !ConfigString.canQuote(value) {
            throw HostingError(
                "\"\(value)\" holds a backslash or control character, which a server configuration cannot carry")
        }
    }

    /// Throws unless `owner`, the data directory's owner and the account a server runs as, is
    /// someone other than root; `refusal` says which server refuses root, and why.
    public func checkRunsAs(_ owner: FileOwner, refusing refusal: String) throws(HostingError) {
        guard owner.uid != 0 else {
            throw HostingError(
                "the data directory \(data.path) belongs to root, and \(refusal): "
                    + "give it to the account the server should run as (chown -R www-data: \(data.path))")
        }
    }

    /// Writes a host's configuration `text` to `path`, atomically, with the JSON error bodies
    /// it refers to.
    public func write(_ text: String, to path: String) throws {
        try writeErrorPages()
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Writes the JSON error bodies (``errorPages()``) into the data directory.
    private func writeErrorPages() throws {
        try FileManager.default.createDirectory(atPath: data.errorPages, withIntermediateDirectories: true)
        try Self.errorPages().forEach { status, body in
            try Data(body).write(to: URL(fileURLWithPath: "\(data.errorPages)/\(status).html"), options: .atomic)
        }
    }

    /// The largest request body any host accepts (64 KiB); each function refuses more than
    /// its manifest's `maxBodyBytes` itself.
    public static let maxRequestBytes = Manifest.maxBodyBytesLimit

    /// The body a host sends for each error status it produces itself, in the functions'
    /// JSON error format. The files are named `<status>.html` for lighttpd's errorfile-prefix;
    /// every host serves them as application/json.
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
