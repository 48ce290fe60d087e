/// The CGI parameters of one request as the web server sent them (`REQUEST_METHOD`,
/// `REQUEST_URI`, `QUERY_STRING`, `HTTP_*`, …). Values that are not valid UTF-8 are kept
/// repaired and their names remembered, so the request parser can refuse the ones it needs.
public struct Params: Sendable, Equatable {
    public private(set) var values: [String: String] = [:]
    public private(set) var notUTF8: Set<String> = []

    public init(_ values: [String: String] = [:]) {
        self.values = values
    }

    public subscript(name: String) -> String? { values[name] }

    /// Adds one `NAME=value` entry as raw bytes; an entry without `=` is ignored.
    public mutating func append(entry: some Collection<UInt8>) {
        guard let equals = entry.firstIndex(of: UInt8(ascii: "=")) else { return }
        set(String(decoding: entry[..<equals], as: UTF8.self), bytes: entry[entry.index(after: equals)...])
    }

    /// Sets `name` from raw bytes, recording it when they are not valid UTF-8.
    public mutating func set(_ name: String, bytes: some Collection<UInt8>) {
        if let value = String(validating: bytes, as: UTF8.self) {
            values[name] = value
            notUTF8.remove(name)
        } else {
            values[name] = String(decoding: bytes, as: UTF8.self)
            notUTF8.insert(name)
        }
    }
}
