/// Why the storefront could not be built or written, in one line an operator can act on.
public struct StorefrontError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
