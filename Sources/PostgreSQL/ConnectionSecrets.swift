import CLibPQ
import Foundation

/// The password a connection string holds, to keep out of messages: libpq quotes a URL or a
/// conninfo it cannot parse whole, password included, and those messages reach the logs.
struct ConnectionSecrets: Sendable {
    private let secrets: [String]

    init(_ url: String) {
        var found: [String] = []
        if let components = URLComponents(string: url) {
            found += [components.password, components.percentEncodedPassword].compactMap { $0 }
        }
        var failure: UnsafeMutablePointer<CChar>?
        if let options = PQconninfoParse(url, &failure) {
            // The array libpq made, freed here, its one owner; it ends at a NULL keyword.
            var option = options
            while let keyword = option.pointee.keyword {
                if String(cString: keyword) == "password", let value = option.pointee.val {
                    found.append(String(cString: value))
                }
                option += 1
            }
            PQconninfoFree(options)
        }
        PQfreemem(failure)
        // A percent-encoded password is also quoted as given.
        if let raw = url.firstRange(of: "://").map({ url[$0.upperBound...] }), let at = raw.firstIndex(of: "@"),
            let colon = raw[..<at].firstIndex(of: ":")
        {
            found.append(String(raw[raw.index(after: colon)..<at]))
        }
        secrets = Array(Set(found.filter { !$0.isEmpty })).sorted { $0.count > $1.count }
    }

    /// `message` with every password replaced by `***`.
    func redacting(_ message: String) -> String {
        secrets.reduce(message) { $0.replacingOccurrences(of: $1, with: "***") }
    }
}
