import Foundation

/// A project folder for `flashsale serve --root`: the real lighttpd template and function
/// manifests, either exactly as shipped or with every manifest's environment replaced and
/// remote backends added to some, and a copy of the storefront's source that a test may add
/// files to.
public struct ProjectCopy {
    public let directory: TemporaryDirectory

    public var root: String { directory.path }
    public var staticDirectory: String { root + "/lighttpd/static" }

    /// `environment` replaces every manifest's own; nil keeps the manifests byte for byte as
    /// shipped in functions/ (but for the `backends` of a function that is given some).
    /// `backends` names, by function, the `host:port` addresses its manifest lists.
    public init(environment: [String: String]? = [:], backends: [String: [String]] = [:]) throws {
        directory = try TemporaryDirectory("root")
        let files = FileManager.default
        try files.createDirectory(atPath: root + "/lighttpd", withIntermediateDirectories: true)
        try files.copyItem(atPath: Paths.packageRoot + "/lighttpd/static", toPath: staticDirectory)
        try files.createSymbolicLink(
            atPath: root + "/lighttpd/lighttpd.conf", withDestinationPath: Paths.packageRoot + "/lighttpd/lighttpd.conf"
        )
        for name in try files.contentsOfDirectory(atPath: Paths.packageRoot + "/functions") {
            let source = URL(fileURLWithPath: "\(Paths.packageRoot)/functions/\(name)/function.json")
            let shipped = try Data(contentsOf: source)
            guard var manifest = try JSONSerialization.jsonObject(with: shipped) as? [String: Any] else { continue }
            try files.createDirectory(atPath: "\(root)/functions/\(name)", withIntermediateDirectories: true)
            let destination = URL(fileURLWithPath: "\(root)/functions/\(name)/function.json")
            if environment == nil && backends[name] == nil {
                try shipped.write(to: destination)
                continue
            }
            if let environment { manifest["environment"] = environment }
            manifest["backends"] = backends[name]
            try JSONSerialization.data(withJSONObject: manifest).write(to: destination)
        }
    }

    public func remove() {
        directory.remove()
    }
}
