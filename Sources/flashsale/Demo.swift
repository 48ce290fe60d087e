import ArgumentParser
import Foundation
import Hosting
import POSIX
import Store
import Storefront

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Run a demo: init, the sale `demo` opening in a minute, guest identities for the browser, and serve; Ctrl-C stops."
    )

    static let saleID = "demo"

    @OptionGroup var data: DataOption
    @OptionGroup var listen: ListenOptions
    @OptionGroup var root: RootOption
    @Option(help: "Seconds from now until the demo sale opens.") var startsIn: Int64 = 60
    @Option(help: "Seconds the demo sale stays open.") var openFor: Int64 = 3600
    @Option(help: "The units for sale.") var stock: Int64 = 5

    func validate() throws {
        guard (0...86_400).contains(startsIn) else { throw ValidationError("--starts-in must be 0 to 86400 seconds") }
        guard (1...86_400).contains(openFor) else { throw ValidationError("--open-for must be 1 to 86400 seconds") }
    }

    func run() throws {
        let directory = data.directory
        do {
            try directory.initialize()
            let desk = try openDesk(data)
            let now = wallClockMilliseconds()
            let new = NewSale(
                id: Self.saleID, title: "Demo sale: the flashsale mug", price: 1299, stock: stock,
                startsAt: now + startsIn * 1000, endsAt: now + (startsIn + openFor) * 1000)
            if try desk.store.sale(Self.saleID) == nil {
                _ = try desk.create(new, nowMs: now)
            } else {
                // Only a sale this command made is started over, never an operator's own "demo".
                guard FileManager.default.fileExists(atPath: directory.demoMarker) else {
                    throw HostingError(
                        "\(directory.path) holds a sale \"demo\" that `flashsale demo` did not create: use another --data"
                    )
                }
                _ = try desk.replace(new, nowMs: now)
            }
            try Data().write(to: URL(fileURLWithPath: directory.demoMarker))
            let manifests = try root.manifests(demo: true).map { manifest in
                var manifest = manifest
                if manifest.isDemoOnly { manifest.environment[Manifest.demoVariable] = "1" }
                return manifest
            }
            let page =
                "http://\(LighttpdConfig.bracketed(listen.host)):\(listen.port)\(Storefront.pagePath(of: Self.saleID))"
            // On stderr, unbuffered, beside serve's own lines.
            FileHandle.standardError.write(
                Data(
                    """
                    flashsale: the demo sale opens in \(startsIn) s with \(stock) units: open \(page)
                    flashsale: its orders: flashsale orders \(Self.saleID) --data \(directory.path)

                    """.utf8))
            try serve(data: directory, listen: listen, root: root, manifests: manifests)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw fail(error)
        }
    }
}
