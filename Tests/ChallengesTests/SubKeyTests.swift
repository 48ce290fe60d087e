import Crypto
import Foundation
import Testing

@testable import Challenges

@Suite struct SubKeyTests {
    static let secret = [UInt8](repeating: 7, count: 32)

    /// As RFC 5869 computes it: PRK = HMAC(zero salt, secret), OKM = HMAC(PRK, info || 0x01).
    @Test func isHKDFSHA256WithNoSaltAndThePurposeAsInfo() {
        let key = SubKey.derive(from: Self.secret, for: "answer digest")
        let hex = key.withUnsafeBytes { $0.map { String(format: "%02x", $0) }.joined() }
        // Computed with Python's hmac module (the benchmark's mint.py derives it the same way).
        #expect(hex == "5431c2425725e5b5d8adf3471d1453c6ba4d3a84bf5e838e3f19063a5a66256c")
    }

    @Test func eachPurposeHasItsOwnKeyAndNoneIsTheSecret() {
        let purposes = ["answer digest", "proof-of-work nonce", "shared table keys"]
        let keys = purposes.map { SubKey.derive(from: Self.secret, for: $0).withUnsafeBytes { Array($0) } }
        #expect(Set(keys).count == purposes.count)
        #expect(!keys.contains(Self.secret))
    }
}
