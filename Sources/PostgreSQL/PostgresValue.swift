/// A statement parameter, sent to the server as text (libpq text format). SQL NULL is `nil`
/// in the parameter array.
public enum PostgresValue: Sendable, Equatable {
    case text(String)
    case int(Int64)
    case bool(Bool)

    /// The text form the server parses: the string itself, a decimal integer, `t` or `f`.
    public var textValue: String {
        switch self {
        case .text(let text): text
        case .int(let integer): String(integer)
        case .bool(let bool): bool ? "t" : "f"
        }
    }
}

extension PostgresValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) {
        self = .text(value)
    }

    public init(integerLiteral value: Int64) {
        self = .int(value)
    }

    public init(booleanLiteral value: Bool) {
        self = .bool(value)
    }
}
