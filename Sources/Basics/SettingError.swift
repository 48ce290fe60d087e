/// A setting from the environment that a process cannot start with: the message names the
/// variable, its value and what to fix.
public struct SettingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
