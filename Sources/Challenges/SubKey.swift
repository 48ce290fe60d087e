import Crypto
import Foundation

/// Keys for one purpose each, derived from the data directory's secret with HKDF-SHA256
/// (RFC 5869, no salt, `flashsale <purpose>` as the info). The secret itself signs tokens only,
/// so an answer digest, a nonce or a table key is never a MAC under the token key.
enum SubKey {
    static func derive(from secret: [UInt8], for purpose: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: secret), info: Data("flashsale \(purpose)".utf8), outputByteCount: 32)
    }
}
