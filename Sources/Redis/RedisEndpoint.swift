import Foundation

/// Where and as whom to connect, from `redis://[[user]:password@]host[:port][/db]`.
struct RedisEndpoint {
    static let defaultPort = 6379

    var host: String
    var port: Int
    var username: String?
    var password: String?
    var database: Int?

    /// Parses `url` with URLComponents. A failure never quotes the URL: it may hold a password.
    init(url: String) throws(RedisError) {
        guard let components = URLComponents(string: url) else { throw Self.invalid("not a URL") }
        guard components.scheme == "redis" else {
            throw Self.invalid("the scheme is \(components.scheme ?? "missing"), not redis")
        }
        guard let host = components.host, !host.isEmpty else { throw Self.invalid("no host") }
        guard components.query == nil, components.fragment == nil else {
            throw Self.invalid("query and fragment are not supported")
        }
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        port = components.port ?? Self.defaultPort
        username = components.user.flatMap { $0.isEmpty ? nil : $0 }
        password = components.password.flatMap { $0.isEmpty ? nil : $0 }
        if username != nil && password == nil { throw Self.invalid("a user name needs a password") }
        let path = components.path.drop { $0 == "/" }
        if path.isEmpty {
            database = nil
        } else if let database = Int(path), database >= 0 {
            self.database = database
        } else {
            throw Self.invalid("the path must be a database number")
        }
    }

    /// `host:port`, for messages.
    var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// AUTH for the URL's credentials, or nil when it has none.
    var authentication: [String]? {
        password.map { password in username.map { ["AUTH", $0, password] } ?? ["AUTH", password] }
    }

    private static func invalid(_ reason: String) -> RedisError {
        RedisError(kind: .other, message: "invalid Redis URL: \(reason)")
    }
}
