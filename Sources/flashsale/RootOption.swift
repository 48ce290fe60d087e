import ArgumentParser
import Basics
import Foundation
import Hosting
import Storefront

/// `--root DIR`: the project folder holding functions/ (the manifests) and lighttpd/ (the
/// server template and the storefront's source in lighttpd/static/).
struct RootOption: ParsableArguments {
    @Option(
        name: .customLong("root"),
        help: "The project folder holding functions/ and lighttpd/ (default: $FLASHSALE_ROOT, else the current folder)."
    )
    var path: String?

    var directory: String {
        absolutePath(path ?? ProcessInfo.processInfo.environment["FLASHSALE_ROOT"] ?? ".")
    }

    /// The lighttpd configuration template.
    var lighttpdTemplate: String { directory + "/lighttpd/lighttpd.conf" }

    /// The storefront built from lighttpd/static/.
    func storefront() throws -> Storefront {
        Storefront(source: try SiteSource(directory: directory + "/lighttpd/static"))
    }

    /// Every function manifest; the demo-only ones only when `demo` is set.
    func manifests(demo: Bool = false) throws -> [Manifest] {
        try Manifest.loadAll(from: directory + "/functions").filter { demo || !$0.isDemoOnly }
    }
}
