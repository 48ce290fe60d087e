import Foundation
import Store
import TestSupport
import Testing

@testable import Storefront

@Suite struct StorefrontTests {
    /// The project's own storefront: every page links only files the site holds.
    @Test func everyAssetThePagesReferenceIsInTheSite() throws {
        let storefront = Storefront(source: try SiteSource(directory: Paths.packageRoot + "/lighttpd/static"))
        let files = storefront.files(sales: [sale("mug"), sale("lamp", endsAt: 1_900_000_000_000)])
        let paths = Set(files.map { "/" + $0.path })
        let pages = files.filter { $0.path.hasSuffix(".html") }
        #expect(pages.map(\.path).sorted() == ["index.html", "s/lamp/index.html", "s/mug/index.html"])
        var referenced: Set<String> = []
        for page in pages {
            let html = String(decoding: page.bytes, as: UTF8.self)
            let links = try Regex(#"(?:src|href)="(/[^"]*)""#)
            referenced.formUnion(html.matches(of: links).compactMap { $0.output[1].substring.map(String.init) })
        }
        let assets = referenced.filter { $0.hasPrefix("/assets/") }
        #expect(!assets.isEmpty)
        // A template naming an asset that is not there renders an empty attribute.
        #expect(
            pages.allSatisfy { page in
                let html = String(decoding: page.bytes, as: UTF8.self)
                return !html.contains(#"src="""#) && !html.contains(#"href="""#)
            })
        // Nothing published before the start may hold the order secret.
        #expect(files.allSatisfy { !String(decoding: $0.bytes, as: UTF8.self).contains("s3cret") })
        #expect(assets.isSubset(of: paths), "missing: \(assets.subtracting(paths))")
        #expect(files.allSatisfy { !$0.path.hasPrefix("assets/") || $0.cacheControl == "max-age=31536000" })
    }

    @Test func anAssetsNameChangesWithItsContentAndOnlyThen() throws {
        let fixture = try SiteFixture()
        defer { fixture.remove() }
        let first = try fixture.storefront().files(sales: [sale("mug")])
        let again = try fixture.storefront().files(sales: [sale("mug")])
        try fixture.write("assets/app.js", "console.log(2)")
        let changed = try fixture.storefront().files(sales: [sale("mug")])
        let asset = { (files: [SiteFile]) in files.first { $0.path.hasPrefix("assets/app.") }?.path }
        #expect(try #require(asset(first)).wholeMatch(of: try Regex(#"assets/app\.[0-9a-f]{10}\.js"#)) != nil)
        #expect(asset(first) == asset(again))
        #expect(asset(first) != asset(changed))
        #expect(changed.text("s/mug/index.html")?.contains("src=\"/\(try #require(asset(changed)))\"") == true)
    }

    @Test func whatAnOperatorTypesIsEscapedInThePage() throws {
        let fixture = try SiteFixture()
        defer { fixture.remove() }
        let files = try fixture.storefront().files(sales: [sale("mug", title: #"<script>alert("x")</script> & co"#)])
        let page = try #require(files.text("s/mug/index.html"))
        #expect(!page.contains("<script>alert"))
        #expect(page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co"))
        #expect(files.text("index.html")?.contains("href=\"/s/mug/\"") == true)
    }

    @Test func theSalePageSeesTheSalesFieldsAndAnEndOnlyWhenThereIsOne() throws {
        let fixture = try SiteFixture(
            salePage:
                "{{sale.id}}|{{sale.priceText}}|{{sale.stock}}|{{sale.startsAt}}|{{sale.startsAtISO}}|{{#sale.endsAt}}ends {{sale.endsAtISO}}{{/sale.endsAt}}"
        )
        defer { fixture.remove() }
        let files = try fixture.storefront().files(sales: [sale("open-ended"), sale("ends", endsAt: 1_800_000_060_000)])
        #expect(files.text("s/open-ended/index.html") == "open-ended|12.99|10|1800000000000|2027-01-15T08:00:00Z|")
        #expect(
            files.text("s/ends/index.html")
                == "ends|12.99|10|1800000000000|2027-01-15T08:00:00Z|ends 2027-01-15T08:01:00Z")
    }

    @Test(arguments: [(0, "0.00"), (5, "0.05"), (1299, "12.99"), (100_000, "1000.00"), (-250, "-2.50")])
    func pricesInMinorUnitsAreShownAsAmounts(_ minor: Int64, _ shown: String) {
        #expect(Storefront.priceText(minor) == shown)
    }

    @Test func aMissingOrBrokenTemplateIsNamed() throws {
        let fixture = try SiteFixture(salePage: "{{#sale}}unclosed")
        defer { fixture.remove() }
        #expect(throws: StorefrontError.self) { try fixture.storefront() }
        #expect(performing: { try fixture.storefront() }, throws: { "\($0)".contains("sale.html does not parse") })
        try FileManager.default.removeItem(atPath: fixture.path + "/index.html")
        #expect(performing: { try fixture.storefront() }, throws: { "\($0)".contains("index.html is missing") })
        #expect(
            performing: { try SiteSource(directory: fixture.path + "/nowhere") },
            throws: { "\($0)".contains("no storefront at") })
    }

    @Test(arguments: [
        ("index.html", "text/html; charset=utf-8", "max-age=10"),
        ("s/mug/index.html", "text/html; charset=utf-8", "max-age=10"),
        ("assets/app.0123456789.js", "text/javascript; charset=utf-8", "max-age=31536000"),
        ("assets/app.0123456789.css", "text/css; charset=utf-8", "max-age=31536000"),
        ("robots.txt", "text/plain; charset=utf-8", "max-age=10"),
        ("data.bin", "application/octet-stream", "max-age=10"),
    ])
    func eachFileHasItsTypeAndLifetime(_ path: String, _ type: String, _ cacheControl: String) {
        let file = SiteFile(path: path, bytes: [])
        #expect(file.contentType == type)
        #expect(file.cacheControl == cacheControl)
    }

    @Test func filesInFoldersArePublishedAndAssetsInFoldersHashedInPlace() throws {
        let fixture = try SiteFixture(
            salePage: #"<link href="{{assets.fonts_a_woff2}}">"#, assets: ["fonts/a.woff2": "font"])
        defer { fixture.remove() }
        try fixture.write("img/logo.svg", "<svg/>")
        try fixture.write(".hidden/secret.txt", "no")
        let files = try fixture.storefront().files(sales: [sale("mug")])
        let font = try #require(files.first { $0.path.hasPrefix("assets/fonts/a.") })
        #expect(font.path.wholeMatch(of: #/assets/fonts/a\.[0-9a-f]{10}\.woff2/#) != nil)
        #expect(files.text("s/mug/index.html") == "<link href=\"/\(font.path)\">")
        #expect(files.text("img/logo.svg") == "<svg/>")
        #expect(!files.contains { $0.path.contains("hidden") || $0.path == "sale.html" })
    }
}
