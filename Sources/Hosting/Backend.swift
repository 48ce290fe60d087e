/// A FastCGI address on the network, `host:port`: where a function runs when the web server
/// does not spawn it (`backends` in a manifest, `--listen` of `flashsale config spawn`).
/// The host is an IPv4 address, an IPv6 address in brackets or a DNS name.
public struct Backend: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The host without brackets.
    public var host: String
    public var port: Int

    /// Parses `host:port`; an IPv6 host is written in brackets, `[::1]:9000`.
    public init(_ text: String) throws(HostingError) {
        let problem = HostingError("backend \"\(text)\" must be host:port, such as 10.0.0.2:9000 or [fd00::2]:9000")
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port)
        else { throw problem }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
            guard host.contains(":"), host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw problem
            }
        } else {
            guard !host.isEmpty,
                host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") })
            else { throw problem }
        }
        (self.host, self.port) = (host, port)
    }

    /// `host:port` with an IPv6 host in brackets, as every web server's configuration takes it.
    public var description: String { "\(ConfigString.bracketed(host)):\(port)" }

    public init(from decoder: any Decoder) throws {
        try self.init(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
