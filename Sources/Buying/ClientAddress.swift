import FastCGI
import Foundation
import HTTPTypes

/// The address a request comes from: the one lighttpd reports (`REMOTE_ADDR`), unless that is
/// a trusted proxy, in which case the nearest address in `X-Forwarded-For` that is not one. A
/// client can write anything into that header, so it is believed only as far as the chain of
/// trusted proxies reaches.
enum ClientAddress {
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    /// The client's address, normalised (see ``normalised(_:)``).
    static func of(_ request: Request, trusting proxies: Set<String>) -> String {
        var address = normalised(request.remoteAddress) ?? request.remoteAddress
        guard proxies.contains(address) else { return address }
        let hops = request.values(ofHeader: forwardedFor).flatMap { $0.split(separator: ",") }
        for hop in hops.reversed() {
            guard let hop = normalised(trimmed(hop)) else { break }
            address = hop
            if !proxies.contains(hop) { break }
        }
        return address
    }

    /// What a rate is counted against: an IPv4 address, or an IPv6 address's /64 (one
    /// subscriber's share, which is theirs to vary).
    static func bucket(_ address: String) -> String {
        guard address.utf8.contains(colon), let bytes = bytes(of: address, family: AF_INET6) else { return address }
        return bytes.prefix(8).map { String(format: "%02x", $0) }.joined() + "::/64"
    }

    /// `address` in one spelling: without brackets or port, IPv6 in its shortest form, an
    /// IPv4-mapped IPv6 address as IPv4; nil when it is no address.
    static func normalised(_ address: String) -> String? {
        let utf8 = address.utf8
        var text = address
        if utf8.first == UInt8(ascii: "["), let end = utf8.firstIndex(of: UInt8(ascii: "]")) {
            text = String(address[utf8.index(after: utf8.startIndex)..<end])
        } else if let colon = utf8.firstIndex(of: colon), !utf8[utf8.index(after: colon)...].contains(Self.colon) {
            text = String(address[..<colon])  // IPv4 with a port
        }
        if let bytes = bytes(of: text, family: AF_INET) { return format(bytes, family: AF_INET) }
        guard let bytes = bytes(of: text, family: AF_INET6) else { return nil }
        if bytes.prefix(12) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] {
            return format(Array(bytes.suffix(4)), family: AF_INET)
        }
        return format(bytes, family: AF_INET6)
    }

    private static let colon = UInt8(ascii: ":")

    /// `text` without leading and trailing spaces and tabs.
    private static func trimmed(_ text: Substring) -> String {
        let utf8 = text.utf8
        let isSpace = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = utf8.firstIndex(where: { !isSpace($0) }), let last = utf8.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(text[first...last])
    }

    private static func bytes(of text: String, family: Int32) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 16)
        guard inet_pton(family, text, &buffer) == 1 else { return nil }
        return Array(buffer.prefix(family == AF_INET ? 4 : 16))
    }

    private static func format(_ bytes: [UInt8], family: Int32) -> String? {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(family, bytes, &text, socklen_t(text.count)) != nil else { return nil }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
