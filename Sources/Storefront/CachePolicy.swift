/// How long browsers and CDNs may keep each static file. Assets carry a hash of their content
/// in their names, so a changed asset is a new URL and the old one can be kept for a year;
/// everything else (the pages) is kept briefly, so a new page reaches buyers within seconds
/// while a CDN still absorbs the crowd that loads it before the start. Only a file that
/// exists gets a lifetime: a 404 for an asset not yet deployed must not be kept for a year.
public enum CachePolicy {
    /// The folder of the content-hashed assets, at the root of the site.
    public static let assetsFolder = "assets"
    /// How long a content-hashed asset is kept, in seconds: a year.
    public static let assetSeconds = 31_536_000
    /// How long a page or any other static file is kept, in seconds.
    public static let pageSeconds = 10

    /// The `Cache-Control` of the static file at URL path `path` (with or without its leading
    /// /): the form lighttpd's mod_expire writes, so the CDN bundle says exactly the same.
    public static func cacheControl(forPath path: String) -> String {
        "max-age=\(seconds(forPath: path))"
    }

    /// The lifetime of the static file at URL path `path`, in seconds.
    public static func seconds(forPath path: String) -> Int {
        let relative = path.hasPrefix("/") ? path.dropFirst() : Substring(path)
        return relative.hasPrefix(assetsFolder + "/") ? assetSeconds : pageSeconds
    }
}
