import FastCGI
import Foundation
import HTTPTypes

/// The address a request comes from: the one lighttpd reports (`REMOTE_ADDR`), unless that is
/// a trusted proxy, in which case the nearest address in `X-Forwarded-For` that is not one. A
/// client can write anything into that header, so it is believed only as far as the chain of
/// trusted proxies reaches.
enum ClientAddress {
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    static func of(_ request: Request, trusting proxies: Set<String>) -> String {
        var address = request.remoteAddress
        guard proxies.contains(address) else { return address }
        let hops = request.headers[values: forwardedFor].joined(separator: ",").split(separator: ",")
        for hop in hops.reversed() {
            let hop = hop.trimmingCharacters(in: .whitespaces)
            guard !hop.isEmpty else { break }
            address = hop
            if !proxies.contains(hop) { break }
        }
        return address
    }
}
