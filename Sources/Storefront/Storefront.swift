import Crypto
import Foundation
import Sales

/// Builds the static site: every asset under a name that carries a hash of its content, the
/// front page listing the sales, and one page per sale at `s/<id>/index.html`. Nothing is
/// rendered per request: the site changes only when a sale is created or the source does.
public struct Storefront: Sendable {
    /// The folder of the sale pages: a sale's page is `/s/<id>/`.
    public static let salesFolder = "s"

    /// What the site is built from.
    public let source: SiteSource

    public init(source: SiteSource) {
        self.source = source
    }

    /// The URL path of a sale's page.
    public static func pagePath(of saleID: String) -> String { "/\(salesFolder)/\(saleID)/" }

    /// Every file of the site for `sales`, sorted by path.
    public func files(sales: [Sale]) -> [SiteFile] {
        let assets = source.assets.map {
            SiteFile(path: Self.hashedPath(of: $0.name, bytes: $0.bytes), bytes: $0.bytes)
        }
        var links: [String: String] = [:]
        for (asset, file) in zip(source.assets, assets) {
            links[Self.contextKey(of: asset.name)] = "/" + file.path
        }
        let pages = sales.map { sale in
            SiteFile(
                path: "\(Self.salesFolder)/\(sale.id)/index.html",
                bytes: Array(source.salePage.render(["sale": Self.context(of: sale), "assets": links]).utf8))
        }
        let front = SiteFile(
            path: "index.html",
            bytes: Array(source.frontPage.render(["sales": sales.map(Self.context(of:)), "assets": links]).utf8))
        return (assets + pages + [front] + source.plainFiles).sorted { $0.path < $1.path }
    }

    /// `storefront.js` → `assets/storefront.<10 hex digits of its SHA-256>.js`; a path in a
    /// folder keeps its folder (`fonts/a.woff2` → `assets/fonts/a.<hash>.woff2`).
    static func hashedPath(of name: String, bytes: [UInt8]) -> String {
        let hash = SHA256.hash(data: bytes).prefix(5).map { String(format: "%02x", $0) }.joined()
        let folder = name.split(separator: "/").dropLast().map { $0 + "/" }.joined()
        let file = name.split(separator: "/").last.map(String.init) ?? name
        let stem = file.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let hashed = stem.count == 2 ? "\(stem[0]).\(hash).\(stem[1])" : "\(file).\(hash)"
        return "\(CachePolicy.assetsFolder)/\(folder)\(hashed)"
    }

    /// How templates name an asset: `storefront.js` is `{{assets.storefront_js}}`,
    /// `fonts/a.woff2` is `{{assets.fonts_a_woff2}}`.
    static func contextKey(of name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    /// What the templates see of a sale. Every value a template prints is HTML-escaped by `{{ }}`.
    static func context(of sale: Sale) -> [String: Any] {
        var context: [String: Any] = [
            "id": sale.id, "title": sale.title, "priceText": priceText(sale.price),
            "stock": sale.stock, "stockText": sale.stock == 1 ? "1 unit" : "\(sale.stock) units",
            "startsAt": sale.startsAt, "startsAtISO": isoTime(sale.startsAt),
            "url": pagePath(of: sale.id),
        ]
        if let endsAt = sale.endsAt {
            context["endsAt"] = endsAt
            context["endsAtISO"] = isoTime(endsAt)
        }
        return context
    }

    /// Minor units as a decimal amount: 1999 → "19.99".
    static func priceText(_ minorUnits: Int64) -> String {
        let sign = minorUnits < 0 ? "-" : ""
        let magnitude = minorUnits.magnitude
        let cents = magnitude % 100
        return "\(sign)\(magnitude / 100).\(cents < 10 ? "0" : "")\(cents)"
    }

    static func isoTime(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
