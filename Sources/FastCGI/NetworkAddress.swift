import Foundation

/// A client's or a proxy's IP address in one spelling, however it was written or reported:
/// what the functions count rates against and what `serve`'s connection guard and the host
/// configurations cap connections by, so that both read `FLASHSALE_TRUSTED_PROXIES` alike.
public struct NetworkAddress: Hashable, Sendable, CustomStringConvertible {
    /// 4 bytes for IPv4 (an IPv4-mapped IPv6 address included), else 16.
    public let bytes: [UInt8]

    /// The address of these 4 or 16 bytes (network order); nil for any other length.
    public init?(bytes: some Collection<UInt8>) {
        let bytes = Array(bytes)
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes.count == 16 && bytes.starts(with: Self.ipv4Mapped) ? Array(bytes.suffix(4)) : bytes
    }

    /// The address `text` writes, with or without a port (`203.0.113.5:443`,
    /// `[2001:db8::1]:443`) or brackets; nil when it is none (a zone index included).
    public init?(_ text: some StringProtocol) {
        let utf8 = text.utf8
        var address = Substring(text)
        if utf8.first == UInt8(ascii: "["), let end = utf8.firstIndex(of: UInt8(ascii: "]")) {
            address = Substring(text[utf8.index(after: utf8.startIndex)..<end])
        } else if let colon = utf8.firstIndex(of: Self.colon), !utf8[utf8.index(after: colon)...].contains(Self.colon) {
            address = Substring(text[..<colon])  // IPv4 with a port
        }
        var buffer = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET, String(address), &buffer) == 1 {
            self.init(bytes: buffer.prefix(4))
        } else if inet_pton(AF_INET6, String(address), &buffer) == 1 {
            self.init(bytes: buffer)
        } else {
            return nil
        }
    }

    public var isIPv4: Bool { bytes.count == 4 }

    /// The shortest spelling: dotted IPv4, compressed lowercase IPv6.
    public var description: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        _ = inet_ntop(isIPv4 ? AF_INET : AF_INET6, bytes, &text, socklen_t(text.count))
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The subscriber the address belongs to: itself for IPv4, its /64 for IPv6 (one
    /// subscriber's share, whose addresses are theirs to vary), as an address with the rest zero.
    public var subscriber: NetworkAddress {
        isIPv4 ? self : NetworkAddress(bytes: bytes.prefix(8) + [UInt8](repeating: 0, count: 8))!
    }

    /// ``subscriber`` as people write it: `198.51.100.7`, `2001:db8:1:2::/64`.
    public var subscriberName: String { isIPv4 ? description : "\(subscriber)/64" }

    /// What a rate is counted against: the ``subscriber`` and the network around it, the
    /// IPv4 /24 or the IPv6 /48 (one site's allocation: 65,536 /64s), as compact keys.
    public var buckets: (subscriber: String, network: String) {
        guard !isIPv4 else {
            return ("\(bytes[0]).\(bytes[1]).\(bytes[2]).\(bytes[3])", "\(bytes[0]).\(bytes[1]).\(bytes[2]).0/24")
        }
        return (Self.hex(bytes.prefix(8)) + "::/64", Self.hex(bytes.prefix(6)) + "::/48")
    }

    /// The first 12 bytes of an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`).
    private static let ipv4Mapped: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]
    private static let colon = UInt8(ascii: ":")
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
}
