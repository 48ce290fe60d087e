/// The CGI parameters of one request as the web server sent them (`REQUEST_METHOD`,
/// `REQUEST_URI`, `QUERY_STRING`, `HTTP_*`, …), in order. A value that is not valid UTF-8 is
/// kept repaired and marked, so the request parser can refuse the ones it needs. A request
/// carries a few dozen, read a handful of times: a list is cheaper than hashing them all.
public struct Params: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var value: String
        public var isUTF8: Bool
    }

    public private(set) var entries: [Entry] = []

    public init(_ values: [String: String] = [:]) {
        entries = values.sorted { $0.key < $1.key }.map { Entry(name: $0.key, value: $0.value, isUTF8: true) }
    }

    /// The value of `name`; the last one when it was given twice.
    public subscript(name: String) -> String? {
        entries.last { $0.name == name }?.value
    }

    /// Whether `name` is absent or valid UTF-8.
    public func isUTF8(_ name: String) -> Bool {
        entries.last { $0.name == name }?.isUTF8 ?? true
    }

    /// The parameters as a dictionary.
    public var values: [String: String] {
        Dictionary(entries.map { ($0.name, $0.value) }) { _, last in last }
    }

    /// Adds one `NAME=value` entry as raw bytes; an entry without `=` is ignored.
    public mutating func append(entry: some Collection<UInt8>) {
        guard let equals = entry.firstIndex(of: UInt8(ascii: "=")) else { return }
        append(String(decoding: entry[..<equals], as: UTF8.self), bytes: entry[entry.index(after: equals)...])
    }

    /// Sets `name` from raw bytes, replacing an earlier value.
    public mutating func set(_ name: String, bytes: some Collection<UInt8>) {
        entries.removeAll { $0.name == name }
        append(name, bytes: bytes)
    }

    private mutating func append(_ name: String, bytes: some Collection<UInt8>) {
        if let value = String(validating: bytes, as: UTF8.self) {
            entries.append(Entry(name: name, value: value, isUTF8: true))
        } else {
            entries.append(Entry(name: name, value: String(decoding: bytes, as: UTF8.self), isUTF8: false))
        }
    }
}
