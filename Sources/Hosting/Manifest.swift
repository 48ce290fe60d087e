import Foundation

/// A function's manifest, `functions/<name>/function.json`: where it is mounted, how many
/// processes run it, how large a request body it takes and what extra environment it gets.
public struct Manifest: Codable, Sendable, Equatable {
    public struct Processes: Codable, Sendable, Equatable {
        public var min: Int
        public var max: Int
    }

    /// The folder name; the executable is `flashsale-<name>`.
    public var name: String = ""
    /// The URL prefix the web server hands to this function, such as `/api/time`.
    public var route: String
    public var processes: Processes
    public var maxBodyBytes: Int
    public var environment: [String: String]
    /// A function that exists only in `flashsale demo` (the guest identities), never in `serve`.
    public var demoOnly: Bool?
    /// `host:port` FastCGI addresses where this function runs already (started with
    /// `flashsale config spawn --listen` on those machines): the web server balances across
    /// them instead of starting the function itself.
    public var backends: [Backend]?

    /// The remote backends; empty when the web server (or spawn-fcgi beside it) runs the function.
    public var remoteBackends: [Backend] { backends ?? [] }

    /// Whether only `flashsale demo` runs this function.
    public var isDemoOnly: Bool { demoOnly ?? false }

    public var executableName: String { "flashsale-\(name)" }

    /// The largest body a function may accept: `server.max-request-size` (64 KiB) in
    /// lighttpd/lighttpd.conf refuses anything larger before it reaches a function.
    public static let maxBodyBytesLimit = 64 * 1024

    private enum CodingKeys: String, CodingKey {
        case route, processes, maxBodyBytes, environment, demoOnly, backends
    }

    /// Reads and checks every `*/function.json` under `directory`, sorted by name.
    public static func loadAll(from directory: String) throws -> [Manifest] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw HostingError("no functions directory at \(directory) (use --root to point at the project)")
        }
        let manifests = try names.sorted().compactMap { name -> Manifest? in
            let file = "\(directory)/\(name)/function.json"
            guard FileManager.default.fileExists(atPath: file) else { return nil }
            return try load(name: name, from: file)
        }
        guard !manifests.isEmpty else { throw HostingError("no function manifests in \(directory)") }
        return manifests
    }

    /// Reads one manifest and checks its values.
    public static func load(name: String, from file: String) throws -> Manifest {
        do {
            var manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: file)))
            manifest.name = name
            try manifest.validate()
            return manifest
        } catch let error as HostingError {
            throw HostingError("\(file): \(error.message)")
        } catch {
            throw HostingError("\(file): not a valid manifest: \(error)")
        }
    }

    /// Throws the first value an operator must fix.
    public func validate() throws(HostingError) {
        guard name.range(of: #"^[a-z][a-z0-9-]*$"#, options: .regularExpression) != nil else {
            throw HostingError("function name \"\(name)\" must be lowercase letters, digits and dashes")
        }
        guard route.hasPrefix("/"), route.range(of: #"^/[A-Za-z0-9/._-]*$"#, options: .regularExpression) != nil else {
            throw HostingError("route \"\(route)\" must be a path such as /api/\(name)")
        }
        guard processes.min >= 0, processes.max >= 1, processes.min <= processes.max else {
            throw HostingError("processes must satisfy 0 <= min <= max and max >= 1")
        }
        guard (0...Self.maxBodyBytesLimit).contains(maxBodyBytes) else {
            throw HostingError(
                "maxBodyBytes must be between 0 and \(Self.maxBodyBytesLimit) (lighttpd's request-size cap)")
        }
        if let backends, backends.isEmpty {
            throw HostingError("backends, when given, must name at least one host:port")
        }
        if Set(remoteBackends).count != remoteBackends.count {
            throw HostingError("backends must not name the same host:port twice")
        }
        for (key, value) in environment {
            guard key.range(of: #"^[A-Z_][A-Z0-9_]*$"#, options: .regularExpression) != nil else {
                throw HostingError("environment name \"\(key)\" must be upper-case letters, digits and _")
            }
            guard ConfigString.canQuote(value) else {
                throw HostingError("environment value of \(key) must not hold a backslash or control character")
            }
        }
    }
}
