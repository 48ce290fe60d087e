import Foundation

/// A project folder for `flashsale serve --root`: the real lighttpd template and function
/// manifests, with an environment added to every manifest and remote backends to some, and a copy of the storefront's
/// source that a test may add files to.
public struct ProjectCopy {
    public let directory: TemporaryDirectory

    public var root: String { directory.path }
    public var staticDirectory: String { root + "/lighttpd/static" }

    /// `backends` names, by function, the `host:port` addresses its manifest lists.
    public init(environment: [String: String] = [:], backends: [String: [String]] = [:]) throws {
        directory = try TemporaryDirectory("root")
        let files = FileManager.default
        try files.createDirectory(atPath: root + "/lighttpd", withIntermediateDirectories: true)
        try files.copyItem(atPath: Paths.packageRoot + "/lighttpd/static", toPath: staticDirectory)
        try files.createSymbolicLink(
            atPath: root + "/lighttpd/lighttpd.conf", withDestinationPath: Paths.packageRoot + "/lighttpd/lighttpd.conf"
        )
        for name in try files.contentsOfDirectory(atPath: Paths.packageRoot + "/functions") {
            let source = URL(fileURLWithPath: "\(Paths.packageRoot)/functions/\(name)/function.json")
            guard var manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: source)) as? [String: Any]
            else { continue }
            manifest["environment"] = environment
            manifest["backends"] = backends[name]
            try files.createDirectory(atPath: "\(root)/functions/\(name)", withIntermediateDirectories: true)
            try JSONSerialization.data(withJSONObject: manifest).write(
                to: URL(fileURLWithPath: "\(root)/functions/\(name)/function.json"))
        }
    }

    public func remove() {
        directory.remove()
    }
}
