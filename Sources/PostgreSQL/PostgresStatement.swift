/// A statement prepared once per connection, the first time that connection runs it, under
/// `name` (unique among the statements a connection runs), and reused from then on.
public struct PostgresStatement: Hashable, Sendable {
    public let name: String
    public let sql: String

    public init(_ name: String, _ sql: String) {
        self.name = name
        self.sql = sql
    }
}
