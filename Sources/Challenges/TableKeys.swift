import Crypto
import Foundation

/// The keys of the segment's shared tables (accounts, addresses, spent challenges): an HMAC
/// under a key derived from the data directory's secret, so that nobody without it can work
/// out where an account or address lands, aim at its neighbourhood or collide with it.
public struct TableKeys: Sendable {
    private let key: SymmetricKey

    public init(secret: [UInt8]) {
        let derived = HMAC<SHA256>.authenticationCode(
            for: Data("flashsale shared table keys".utf8), using: SymmetricKey(data: secret))
        key = SymmetricKey(data: Data(derived))
    }

    /// The key of `parts` (joined with newlines, which none of them holds).
    public func key(_ parts: String...) -> UInt64 {
        let code = HMAC<SHA256>.authenticationCode(for: Data(parts.joined(separator: "\n").utf8), using: key)
        return Data(code).prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}
