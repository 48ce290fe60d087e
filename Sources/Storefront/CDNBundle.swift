import Foundation

/// The site as a CDN bucket or static host takes it: the files, plus the cache rules in the
/// forms hosts read — `cdn-manifest.json` (path → Cache-Control and Content-Type, the origin
/// and its routes), a Netlify/Cloudflare-Pages-style `_headers`, and a Netlify-style
/// `_redirects` that proxies the dynamic routes to the origin.
public struct CDNBundle: Sendable {
    /// The bundle's own files, beside the site's.
    public static let manifestName = "cdn-manifest.json"
    public static let headersName = "_headers"
    public static let redirectsName = "_redirects"

    /// What `cdn-manifest.json` holds.
    public struct Manifest: Codable, Sendable, Equatable {
        public struct Headers: Codable, Sendable, Equatable {
            public var cacheControl: String
            public var contentType: String
        }

        /// Where the dynamic routes are served: scheme, host and port of the origin.
        public var origin: String
        /// The function routes; a route ending in `/` is a prefix. They must reach the origin.
        public var dynamicRoutes: [String]
        /// The headers every response carries.
        public var securityHeaders: [String: String]
        /// URL path → the headers of that file.
        public var files: [String: Headers]
    }

    /// The site.
    public var files: [SiteFile]
    /// `scheme://host[:port]` of the origin, without a trailing slash.
    public var origin: String
    /// The function routes, sorted.
    public var dynamicRoutes: [String]

    /// Refuses an origin that is not `http(s)://host[:port]` with nothing after it.
    public init(files: [SiteFile], origin: String, dynamicRoutes: [String]) throws(StorefrontError) {
        guard let url = URL(string: origin), ["http", "https"].contains(url.scheme), url.host != nil,
            url.path.isEmpty || url.path == "/", url.query == nil, url.fragment == nil, url.user == nil
        else {
            throw StorefrontError(
                "origin \"\(origin)\" must be http(s)://host[:port], such as https://shop.example.com")
        }
        self.files = files
        self.origin = origin.hasSuffix("/") ? String(origin.dropLast()) : origin
        self.dynamicRoutes = dynamicRoutes.sorted()
    }

    /// What `cdn-manifest.json` holds.
    public var manifest: Manifest {
        var entries: [String: Manifest.Headers] = [:]
        for file in files {
            for path in file.urlPaths {
                entries[path] = Manifest.Headers(cacheControl: file.cacheControl, contentType: file.contentType)
            }
        }
        return Manifest(
            origin: origin, dynamicRoutes: dynamicRoutes,
            securityHeaders: Dictionary(uniqueKeysWithValues: SecurityHeaders.all.map { ($0.name, $0.value) }),
            files: entries)
    }

    /// `_headers`: the security headers for every path, then each file's own two. Cache-Control
    /// is never given by a wildcard, since hosts join the values of every rule that matches.
    public var headersFile: String {
        var lines = ["/*"] + SecurityHeaders.all.map { "  \($0.name): \($0.value)" }
        for file in files {
            for path in file.urlPaths {
                lines += [path, "  Cache-Control: \(file.cacheControl)", "  Content-Type: \(file.contentType)"]
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `_redirects`: each function route proxied (status 200) to the origin.
    public var redirectsFile: String {
        dynamicRoutes.map { route in
            route.hasSuffix("/") ? "\(route)*  \(origin)\(route):splat  200" : "\(route)  \(origin)\(route)  200"
        }.joined(separator: "\n") + "\n"
    }

    /// Writes the bundle into `directory`, which must be absent or empty: a bundle is a whole.
    public func write(to directory: String) throws {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory)
        guard !exists || isDirectory.boolValue else { throw StorefrontError("\(directory) is a file, not a folder") }
        let contents = exists ? try FileManager.default.contentsOfDirectory(atPath: directory) : []
        guard contents.isEmpty else {
            throw StorefrontError("\(directory) is not empty: export into a new or empty folder")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let extras = [
            SiteFile(path: Self.manifestName, bytes: Array(try encoder.encode(manifest)) + [0x0A]),
            SiteFile(path: Self.headersName, bytes: Array(headersFile.utf8)),
            SiteFile(path: Self.redirectsName, bytes: Array(redirectsFile.utf8)),
        ]
        try SiteDirectory(path: directory).publish(files + extras)
    }
}
