/// Why the host could not set up or start, as one line an operator can act on.
public struct HostingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
