import Crypto
import Foundation

/// The keys of the segment's shared tables (accounts, addresses, spent challenges): an HMAC
/// under a key derived from the data directory's secret, so that nobody without it can work
/// out where an account or address lands, aim at its neighbourhood or collide with it. Under
/// a key of another `purpose`, other 64-bit values nobody may predict (the admission windows'
/// jitter).
public struct TableKeys: Sendable {
    /// The HMAC with its key already absorbed: each key copies it and adds only its message.
    private let keyed: HMAC<SHA256>

    public init(secret: [UInt8], purpose: String = "shared table keys") {
        keyed = HMAC<SHA256>(key: SubKey.derive(from: secret, for: purpose))
    }

    /// The key of `parts`, each followed by a newline (which none of them holds).
    public func key(_ parts: String...) -> UInt64 {
        var message = [UInt8]()
        message.reserveCapacity(parts.reduce(0) { $0 + $1.utf8.count + 1 })
        for part in parts {
            message.append(contentsOf: part.utf8)
            message.append(0x0A)
        }
        var mac = keyed
        message.withUnsafeBytes { mac.update(data: $0) }
        return mac.finalize().withUnsafeBytes { bytes in bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) } }
    }
}
