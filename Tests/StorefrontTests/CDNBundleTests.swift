import Foundation
import Storefront
import TestSupport
import Testing

@Suite struct CDNBundleTests {
    static let routes = ["/api/time", "/api/order/", "/sale/"]

    @Test func theBundleHoldsTheSiteAndItsRulesForEveryFile() throws {
        let fixture = try SiteFixture()
        defer { fixture.remove() }
        let out = try TemporaryDirectory("cdn")
        defer { out.remove() }
        let files = try fixture.storefront().files(sales: [sale("mug")])
        let bundle = try CDNBundle(files: files, origin: "https://shop.example.com/", dynamicRoutes: Self.routes)
        try bundle.write(to: out.path)

        let manifest = try JSONDecoder().decode(
            CDNBundle.Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: out.path + "/cdn-manifest.json")))
        #expect(manifest.origin == "https://shop.example.com")
        #expect(manifest.dynamicRoutes == Self.routes.sorted())
        #expect(manifest.securityHeaders["X-Content-Type-Options"] == "nosniff")
        for file in files {
            #expect(FileManager.default.contents(atPath: "\(out.path)/\(file.path)").map(Array.init) == file.bytes)
            #expect(manifest.files["/" + file.path]?.cacheControl == file.cacheControl)
            #expect(manifest.files["/" + file.path]?.contentType == file.contentType)
        }
        #expect(manifest.files["/s/mug/"]?.cacheControl == "max-age=10")
        let listed = Set(manifest.files.keys.filter { !$0.hasSuffix("/") })
        #expect(listed == Set(files.map { "/" + $0.path }))

        let headers = try String(contentsOfFile: out.path + "/_headers", encoding: .utf8)
        let blocks = headers.split(separator: "\n").split { !$0.hasPrefix(" ") }
        #expect(headers.hasPrefix("/*\n  X-Content-Type-Options: nosniff\n"))
        let asset = try #require(files.first { $0.path.hasPrefix("assets/") })
        #expect(headers.contains("/\(asset.path)\n  Cache-Control: \("max-age=31536000")\n"))
        #expect(blocks.first?.contains { $0.contains("Cache-Control") } == false)

        let redirects = try String(contentsOfFile: out.path + "/_redirects", encoding: .utf8)
        for name in ["cdn-manifest.json", "_headers", "_redirects"] {
            #expect(try !String(contentsOfFile: "\(out.path)/\(name)", encoding: .utf8).contains("s3cret"))
        }
        #expect(
            redirects == """
                /api/order/*  https://shop.example.com/api/order/:splat  200
                /api/time  https://shop.example.com/api/time  200
                /sale/*  https://shop.example.com/sale/:splat  200

                """)
    }

    @Test(arguments: [
        "", "shop.example.com", "ftp://shop.example.com", "https://", "https://shop.example.com/api",
        "https://shop.example.com?x=1", "https://user@shop.example.com",
    ])
    func anOriginThatIsNotSchemeHostAndPortIsRefused(_ origin: String) {
        #expect(throws: StorefrontError.self) { try CDNBundle(files: [], origin: origin, dynamicRoutes: []) }
    }

    @Test func aFileWhereTheFolderShouldBeIsRefused() throws {
        let out = try TemporaryDirectory("cdn")
        defer { out.remove() }
        try Data("x".utf8).write(to: URL(fileURLWithPath: out.path + "/file"))
        let bundle = try CDNBundle(files: [], origin: "http://127.0.0.1:8080", dynamicRoutes: [])
        #expect(performing: { try bundle.write(to: out.path + "/file") }, throws: { "\($0)".contains("is a file") })
    }

    @Test func aFolderThatIsNotEmptyIsRefused() throws {
        let out = try TemporaryDirectory("cdn")
        defer { out.remove() }
        try Data("x".utf8).write(to: URL(fileURLWithPath: out.path + "/old.txt"))
        let bundle = try CDNBundle(files: [], origin: "http://127.0.0.1:8080", dynamicRoutes: [])
        #expect(performing: { try bundle.write(to: out.path) }, throws: { "\($0)".contains("is not empty") })
    }
}
