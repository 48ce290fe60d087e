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

    /// What a rate is counted against: the subscriber, an IPv4 address or an IPv6 address's /64
    /// (one subscriber's share, which is theirs to vary); and the network around it, the IPv4
    /// /24 or the IPv6 /48 (one site's allocation: 65,536 /64s). An IPv4-mapped IPv6 address
    /// counts as its IPv4 address. Text that is no address is its own subscriber, in no network.
    static func buckets(of address: String) -> (subscriber: String, network: String?) {
        if address.utf8.contains(colon), let bytes = bytes(of: address, family: AF_INET6) {
            guard !bytes.starts(with: ipv4Mapped) else { return ipv4Buckets(Array(bytes.suffix(4))) }
            return (hex(bytes.prefix(8)) + "::/64", hex(bytes.prefix(6)) + "::/48")
        }
        guard let bytes = bytes(of: address, family: AF_INET) else { return (address, nil) }
        return ipv4Buckets(bytes)
    }

    private static func ipv4Buckets(_ bytes: [UInt8]) -> (subscriber: String, network: String?) {
        ("\(bytes[0]).\(bytes[1]).\(bytes[2]).\(bytes[3])", "\(bytes[0]).\(bytes[1]).\(bytes[2]).0/24")
    }

    /// The first 12 bytes of an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`).
    private static let ipv4Mapped: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// `bytes` in lowercase hexadecimal, two digits each.
    private static func hex(_ bytes: ArraySlice<UInt8>) -> String {
        var text = [UInt8]()
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(hexDigits[Int(byte >> 4)])
            text.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
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
        if bytes.starts(with: ipv4Mapped) {
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
