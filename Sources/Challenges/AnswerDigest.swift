import Crypto
import Foundation

/// What a signed challenge carries instead of its answer: an HMAC of the challenge's id and
/// the normalised answer under a key derived from the data directory's secret, base64. The challenge travels to
/// the client, which can read its claims but not turn the digest back into the answer.
public struct AnswerDigest: Sendable {
    private let key: SymmetricKey

    public init(secret: [UInt8]) {
        key = SubKey.derive(from: secret, for: "answer digest")
    }

    /// The digest of `answer` for the challenge `id`.
    public func digest(challenge id: String, answer: String) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Self.message(id, answer), using: key)).base64EncodedString()
    }

    /// Whether `answer` is the one `digest` was made from (compared in constant time).
    public func matches(_ digest: String, challenge id: String, answer: String) -> Bool {
        guard let code = Data(base64Encoded: digest) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: Self.message(id, answer), using: key)
    }

    private static func message(_ id: String, _ answer: String) -> Data {
        Data("\(id)\n\(normalised(answer))".utf8)
    }

    /// Case, surrounding space and inner runs of space do not count.
    static func normalised(_ answer: String) -> String {
        answer.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}
