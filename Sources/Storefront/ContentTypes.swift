/// The `Content-Type` of a static file by its extension: one table for lighttpd's
/// `mimetype.assign` and for the CDN bundle's headers.
public enum ContentTypes {
    /// Extension (with its dot) → type; anything else is `fallback`.
    public static let byExtension: [(fileExtension: String, type: String)] = [
        (".html", "text/html; charset=utf-8"),
        (".css", "text/css; charset=utf-8"),
        (".js", "text/javascript; charset=utf-8"),
        (".mjs", "text/javascript; charset=utf-8"),
        (".json", "application/json"),
        (".txt", "text/plain; charset=utf-8"),
        (".svg", "image/svg+xml"),
        (".png", "image/png"),
        (".jpg", "image/jpeg"),
        (".jpeg", "image/jpeg"),
        (".gif", "image/gif"),
        (".webp", "image/webp"),
        (".avif", "image/avif"),
        (".ico", "image/x-icon"),
        (".woff2", "font/woff2"),
        (".map", "application/json"),
    ]

    /// The type of a file whose extension is not in the table.
    public static let fallback = "application/octet-stream"

    /// The type of the file at `path`.
    public static func of(_ path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return byExtension.first { name.hasSuffix($0.fileExtension) }?.type ?? fallback
    }
}
