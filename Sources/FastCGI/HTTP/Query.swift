import Foundation

/// The decoded `application/x-www-form-urlencoded` query of a request, in order.
public struct Query: Sendable, Equatable {
    public struct Item: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public var items: [Item]

    public init(_ items: [Item] = []) {
        self.items = items
    }

    /// Decodes `a=1&b=two+words&c=%C3%A9`; a bad `%` escape or bytes that are not UTF-8 are
    /// a `bad_request`.
    public init(parsing string: Substring) throws(HTTPError) {
        items = []
        for pair in string.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try Self.decode(parts[0])
            let value = parts.count > 1 ? try Self.decode(parts[1]) : ""
            items.append(Item(name: name, value: value))
        }
    }

    /// The first value given for `name`.
    public subscript(name: String) -> String? {
        items.first { $0.name == name }?.value
    }

    private static func decode(_ component: Substring) throws(HTTPError) -> String {
        guard component.contains(where: { $0 == "%" || $0 == "+" }) else { return String(component) }
        guard let decoded = String(component).replacing("+", with: " ").removingPercentEncoding else {
            throw HTTPError(.badRequest, "the query has a malformed percent-encoding or is not UTF-8")
        }
        return decoded
    }
}
