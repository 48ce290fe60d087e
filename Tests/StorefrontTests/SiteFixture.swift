import Foundation
import Sales
import Store
import Storefront
import TestSupport

/// A storefront source of its own in a temporary folder, for tests that change its files.
struct SiteFixture {
    let directory: TemporaryDirectory
    var path: String { directory.path }

    init(
        salePage: String = #"<h1>{{sale.title}}</h1><script src="{{assets.app_js}}"></script>"#,
        frontPage: String = #"{{#sales}}<a href="{{url}}">{{title}}</a>{{/sales}}"#,
        assets: [String: String] = ["app.js": "console.log(1)"]
    ) throws {
        directory = try TemporaryDirectory("site")
        try write("sale.html", salePage)
        try write("index.html", frontPage)
        try write("robots.txt", "User-agent: *\n")
        for (name, text) in assets { try write("assets/\(name)", text) }
    }

    func write(_ name: String, _ text: String) throws {
        let url = URL(fileURLWithPath: "\(path)/\(name)")
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func storefront() throws -> Storefront {
        Storefront(source: try SiteSource(directory: path))
    }

    func remove() {
        directory.remove()
    }
}

/// A sale as the store would return it.
func sale(_ id: String, title: String = "A mug", price: Int64 = 1299, endsAt: Int64? = nil) -> Sale {
    Sale(
        id: id, slot: 0, title: title, price: price, stock: 10, remaining: 10, version: 0,
        startsAt: 1_800_000_000_000, endsAt: endsAt, secret: "s3cret", createdAt: 0)
}

extension [SiteFile] {
    func file(_ path: String) -> SiteFile? { first { $0.path == path } }

    func text(_ path: String) -> String? { file(path).map { String(decoding: $0.bytes, as: UTF8.self) } }
}
