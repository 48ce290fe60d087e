import ArgumentParser
import Basics
import Foundation
import Hosting
import Storefront

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Write the storefront as a CDN bundle: hashed assets, pages, cdn-manifest.json, _headers and _redirects."
    )

    @OptionGroup var data: DataOption
    @OptionGroup var root: RootOption
    @Option(help: "The folder to write; it must be new or empty.") var out: String
    @Option(help: "The origin serving the functions' routes, such as https://shop.example.com.") var origin: String
    @Option(name: .customLong("sale"), help: "A sale to include (repeat for several; default: every sale).")
    var sales: [String] = []

    func run() throws {
        try runReporting {
            let storefront = try root.storefront()
            let store = try openDesk(data).store
            let all = try store.sales()
            for id in sales where !all.contains(where: { $0.id == id }) {
                throw ValidationError("no sale has id \"\(id)\"")
            }
            let chosen = sales.isEmpty ? all : all.filter { sales.contains($0.id) }
            let bundle = try CDNBundle(
                files: storefront.files(sales: chosen), origin: origin,
                dynamicRoutes: try root.manifests().map(\.route))
            let directory = absolutePath(out)
            try bundle.write(to: directory)
            print("flashsale: wrote \(bundle.files.count) files for \(chosen.count) sales to \(directory)")
            print("flashsale: send \(bundle.dynamicRoutes.joined(separator: " ")) to \(bundle.origin)")
        }
    }
}
