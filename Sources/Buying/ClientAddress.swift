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
        resolved(request, trusting: proxies).text
    }

    /// What the client's rates are counted against, from one parse of its address.
    static func buckets(of request: Request, trusting proxies: Set<String>) -> (subscriber: String, network: String?) {
        let client = resolved(request, trusting: proxies)
        return client.address?.buckets ?? (client.text, nil)
    }

    /// What a rate is counted against (``NetworkAddress/buckets``); text that is no address
    /// is its own subscriber, in no network.
    static func buckets(of address: String) -> (subscriber: String, network: String?) {
        NetworkAddress(address)?.buckets ?? (address, nil)
    }

    /// The client's address in one spelling, and parsed; text lighttpd reported that is no
    /// address stands as it is.
    private static func resolved(
        _ request: Request, trusting proxies: Set<String>
    ) -> (text: String, address: NetworkAddress?) {
        let remote = NetworkAddress(request.remoteAddress)
        var client = (text: remote?.description ?? request.remoteAddress, address: remote)
        guard proxies.contains(client.text) else { return client }
        let hops = request.values(ofHeader: forwardedFor).flatMap { $0.split(separator: ",") }
        for hop in hops.reversed() {
            guard let hop = NetworkAddress(trimmed(hop)) else { break }
            client = (hop.description, hop)
            if !proxies.contains(client.text) { break }
        }
        return client
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
