/// What every host's configuration file shares: values in double quotes, and addresses as a
/// URL or a listen directive takes them.
public enum ConfigString {
    /// Whether `value` can be written in double quotes in any host's configuration: lighttpd
    /// knows only `\"` as an escape, so a backslash (a trailing one ends the string early) or a
    /// control character cannot be written, and the other hosts' files keep the same rule.
    public static func canQuote(_ value: String) -> Bool {
        !value.unicodeScalars.contains { $0 == "\\" || $0.properties.generalCategory == .control }
    }

    /// `value` in double quotes with `"` escaped; an error naming `server` when the value holds a
    /// backslash, a control character or one of `expanded` (what that server would expand).
    static func quoted(_ value: String, for server: String, expanded: [String] = []) throws(HostingError) -> String {
        guard canQuote(value), !expanded.contains(where: value.contains) else {
            let also = expanded.map { " or \($0)" }.joined()
            throw HostingError(
                "\"\(value)\" holds a backslash, a control character\(also), which \(server) cannot carry")
        }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// `host` as a URL and every listen directive take it: an IPv6 address in brackets.
    public static func bracketed(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }
}
