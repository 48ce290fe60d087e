import ArgumentParser
import Basics
import Foundation
import Hosting
import Sales
import Store
import Storefront

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Run a demo: init, the sale `demo` opening in a minute, guest identities for the browser, and serve; Ctrl-C stops."
    )

    @OptionGroup var data: DataOption
    @OptionGroup var listen: ListenOptions
    @OptionGroup var root: RootOption
    @Option(help: "Seconds from now until the demo sale opens.") var startsIn: Int64 = 60
    @Option(help: "Seconds the demo sale stays open.") var openFor: Int64 = 3600
    @Option(help: "The units for sale.") var stock: Int64 = 5
    @Option(help: "The demo sale's challenge before a token: off, image or question (generated ones).")
    var captcha = CaptchaMode.off
    @Option(help: "Leading zero bits of the proof of work the page solves before each token (0: none).")
    var pow: Int64 = 0

    func validate() throws {
        guard (0...86_400).contains(startsIn) else { throw ValidationError("--starts-in must be 0 to 86400 seconds") }
        guard (1...86_400).contains(openFor) else { throw ValidationError("--open-for must be 1 to 86400 seconds") }
    }

    func run() throws {
        let directory = data.directory
        do {
            try directory.initialize()
            let manifests = try root.manifests(demo: true).map { manifest in
                var manifest = manifest
                if manifest.isDemoOnly { manifest.environment[DataDirectory.demoVariable] = "1" }
                return manifest
            }
            try serve(data: directory, listen: listen, root: root, manifests: manifests) {
                let now = wallClockMilliseconds()
                let new = NewSale(
                    id: DemoSale.id, title: "Demo sale: the flashsale mug", price: 1299, stock: stock,
                    startsAt: now + startsIn * 1000, endsAt: now + (startsIn + openFor) * 1000, captcha: captcha,
                    powBits: pow)
                let madeByDemo = FileManager.default.fileExists(atPath: directory.demoMarker)
                _ = try DemoSale.prepare(new, desk: try openDesk(data), madeByDemo: madeByDemo, nowMs: now)
                try Data().write(to: URL(fileURLWithPath: directory.demoMarker))
                let host = ConfigString.bracketed(listen.host)
                let page = "http://\(host):\(listen.port)\(Storefront.pagePath(of: DemoSale.id))"
                // On stderr, unbuffered, beside serve's own lines.
                standardError.write(
                    """
                    flashsale: the demo sale opens in \(startsIn) s with \(stock) units: open \(page)
                    flashsale: its orders: flashsale orders \(DemoSale.id) --data \(directory.path)
                    """, priority: LOG_NOTICE)
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw fail(error)
        }
    }
}
