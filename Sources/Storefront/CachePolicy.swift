/// How long browsers and CDNs may keep each static file. Assets carry a hash of their content
/// in their names, so a changed asset is a new URL and the old one can be kept for a year;
/// everything else (the pages) is kept briefly, so a new page reaches buyers within seconds
/// while a CDN still absorbs the crowd that loads it before the start.
public enum CachePolicy {
    /// The folder of the content-hashed assets, at the root of the site.
    public static let assetsFolder = "assets"
    /// For content-hashed assets.
    public static let immutable = "public, max-age=31536000, immutable"
    /// For pages and every other static file.
    public static let short = "public, max-age=10"

    /// The `Cache-Control` of the static file at URL path `path` (with or without its leading /).
    public static func cacheControl(forPath path: String) -> String {
        let relative = path.hasPrefix("/") ? path.dropFirst() : Substring(path)
        return relative.hasPrefix(assetsFolder + "/") ? immutable : short
    }
}
