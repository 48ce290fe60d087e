/// One file of the storefront, at its URL path, as a web server or CDN bucket serves it.
public struct SiteFile: Sendable, Equatable {
    /// The path from the site's root, without a leading slash: `s/demo/index.html`.
    public var path: String
    /// The file's content.
    public var bytes: [UInt8]

    public init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
    }

    /// What `Content-Type` it is served with.
    public var contentType: String { ContentTypes.of(path) }
    /// What `Cache-Control` it is served with.
    public var cacheControl: String { CachePolicy.cacheControl(forPath: path) }
    /// Whether it is a content-hashed asset.
    public var isAsset: Bool { path.hasPrefix(CachePolicy.assetsFolder + "/") }

    /// The URL paths that serve this file: `/s/demo/index.html` also answers at `/s/demo/`.
    public var urlPaths: [String] {
        let name = "/" + path
        guard name.hasSuffix("/index.html") else { return [name] }
        return [String(name.dropLast("index.html".count)), name]
    }
}
