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

    /// What a rate is counted against (``NetworkAddress/buckets``); text that is no address
    /// is its own subscriber, in no network.
    static func buckets(of address: String) -> (subscriber: String, network: String?) {
        guard let parsed = NetworkAddress(address) else { return (address, nil) }
        return parsed.buckets
    }

    /// `address` in one spelling (``NetworkAddress``); nil when it is no address.
    static func normalised(_ address: String) -> String? { NetworkAddress(address)?.description }

    /// `text` without leading and trailing spaces and tabs.
    private static func trimmed(_ text: Substring) -> String {
        let utf8 = text.utf8
        let isSpace = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = utf8.firstIndex(where: { !isSpace($0) }), let last = utf8.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(text[first...last])
    }
}
