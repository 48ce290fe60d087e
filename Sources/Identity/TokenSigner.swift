import Crypto
import ExtrasBase64
import Foundation
import JWTKit
import Synchronization

/// HS256 signing and verification with one shared secret, synchronously.
///
/// jwt-kit encodes and decodes (its parser, serializer and JSON coders) and swift-crypto computes
/// the HMAC. jwt-kit's own signing and verifying go through its key collection, an actor, which
/// a synchronous function could reach only by blocking on a task: that hop cost more than
/// everything else in a token request. This type also checks that the header says HS256 and
/// turns every refusal into a ``TokenError``.
public final class TokenSigner: Sendable {
    /// The one algorithm signed and accepted.
    public static let algorithm = "HS256"

    /// The HMAC with the secret already absorbed: each token copies it and adds only its bytes.
    private let keyed: HMAC<SHA256>
    private let parser = DefaultJWTParser()
    private let serializer = DefaultJWTSerializer()
    /// The base64url header this signer writes: `{"alg":"HS256","typ":"JWT"}` in jwt-kit's spelling.
    private let signedHeader: [UInt8]
    /// Encoded headers of tokens that verified, so that each spelling is decoded once. A main
    /// site uses one or two; a forger's inventions are decoded each time and never kept.
    private let acceptedHeaders: Mutex<Set<[UInt8]>>

    /// `secret` is the HMAC key: at least 32 bytes (the SHA-256 output), as RFC 7518 §3.2 requires.
    public init(secret: [UInt8]) {
        precondition(secret.count >= 32, "an HS256 secret needs at least 32 bytes; this one has \(secret.count)")
        keyed = HMAC<SHA256>(key: SymmetricKey(data: secret))
        var header = JWTHeader()
        header.alg = Self.algorithm
        header.typ = "JWT"
        // Encoding a two-string header cannot fail.
        signedHeader = Base64.encodeToBytes(bytes: try! serializer.jsonEncoder.encode(header), options: Self.base64URL)
        acceptedHeaders = Mutex([signedHeader])
    }

    /// The compact JWT for `payload`.
    public func sign(_ payload: some JWTPayload) throws -> String {
        var token = signedHeader
        token.append(UInt8(ascii: "."))
        token.append(contentsOf: try serializer.serialize(payload))
        let signature = Array(keyed.finalizingCopy(adding: token[...]))
        token.append(UInt8(ascii: "."))
        token.append(contentsOf: Base64.encodeToBytes(bytes: signature, options: Self.base64URL))
        return String(decoding: token, as: UTF8.self)
    }

    /// The payload of `token` once its shape and header (else ``TokenError/malformed``,
    /// ``TokenError/notCanonical`` or ``TokenError/invalid(_:)``), its signature (``TokenError/badSignature``) and the payload's
    /// own ``CheckedClaims/check()`` (expiry and the rest) have passed.
    public func verify<Payload: CheckedClaims>(
        _ token: String, as _: Payload.Type = Payload.self
    ) throws(TokenError) -> Payload {
        let bytes = Array(token.utf8)
        let parts: (header: ArraySlice<UInt8>, payload: ArraySlice<UInt8>, signature: ArraySlice<UInt8>)
        let payload: Payload
        let signature: [UInt8]
        let newHeader: [UInt8]?
        do {
            parts = try parser.getTokenParts(bytes)
            guard Self.isCanonical(parts.header), Self.isCanonical(parts.payload), Self.isCanonical(parts.signature)
            else { throw TokenError.notCanonical }
            newHeader = try checkHeader(parts.header)
            let json = try Base64.decode(bytes: parts.payload, options: Self.unpaddedBase64URL)
            payload = try parser.jsonDecoder.decode(Payload.self, from: Data(json))
            signature = try Base64.decode(bytes: parts.signature, options: Self.unpaddedBase64URL)
        } catch let error as TokenError {
            throw error
        } catch {
            throw .malformed
        }
        // Constant time: the comparison of a MAC with bytes does not stop at the first difference.
        guard keyed.finalizingCopy(adding: bytes[..<parts.payload.endIndex]) == signature else {
            throw .badSignature
        }
        if let newHeader { remember(newHeader) }
        do {
            try payload.check()
        } catch {
            throw TokenError(error)
        }
        return payload
    }

    /// Throws unless the header says HS256; returns a spelling not seen before, which
    /// ``remember(_:)`` keeps once the token's signature has verified.
    private func checkHeader(_ encoded: ArraySlice<UInt8>) throws -> [UInt8]? {
        let encoded = Array(encoded)
        if acceptedHeaders.withLock({ $0.contains(encoded) }) { return nil }
        let json = try Base64.decode(bytes: encoded, options: Self.unpaddedBase64URL)
        let header = try parser.jsonDecoder.decode(JWTHeader.self, from: Data(json))
        guard header.alg == Self.algorithm else {
            throw TokenError.invalid("the token is signed with \(header.alg ?? "no algorithm"), not \(Self.algorithm)")
        }
        return encoded
    }

    private func remember(_ header: [UInt8]) {
        acceptedHeaders.withLock { accepted in
            if accepted.count < Self.acceptedHeaderLimit { accepted.insert(header) }
        }
    }

    /// Whether `part` is base64url in its one spelling (RFC 7515 §2, RFC 4648 §3.5): no `=`,
    /// and the spare low bits of a last character that ends inside a byte are zero. A lenient
    /// decoder accepts padding and ignores those bits, so one signature would have several
    /// spellings that all verify. Looks at the last two bytes only: the decoder refuses the rest.
    static func isCanonical(_ part: ArraySlice<UInt8>) -> Bool {
        guard let last = part.last else { return true }
        let padding = UInt8(ascii: "=")
        guard last != padding, part.count < 2 || part[part.endIndex - 2] != padding else { return false }
        // 2 characters carry 1 byte and 4 spare bits, 3 carry 2 bytes and 2 spare bits.
        let spareBits: UInt8 =
            switch part.count % 4 {
            case 2: 0x0F
            case 3: 0x03
            default: 0
            }
        guard spareBits != 0 else { return true }
        let value: UInt8
        switch last {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = last - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): value = last - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): value = last - UInt8(ascii: "0") + 52
        case UInt8(ascii: "-"): value = 62
        case UInt8(ascii: "_"): value = 63
        default: return true  // not base64url at all: the decoder refuses it as malformed
        }
        return value & spareBits == 0
    }

    /// JWTs spell their parts in base64url without padding (RFC 7515 §2).
    private static let base64URL: Base64.EncodingOptions = [.base64UrlAlphabet, .omitPaddingCharacter]
    private static let unpaddedBase64URL: Base64.DecodingOptions = [.base64UrlAlphabet, .omitPaddingCharacter]

    /// How many header spellings are remembered.
    private static let acceptedHeaderLimit = 8
}

extension HMAC {
    /// The code of the bytes absorbed so far plus `input`, leaving `self` as it was.
    fileprivate func finalizingCopy(adding input: ArraySlice<UInt8>) -> HashedAuthenticationCode<H> {
        var copy = self
        // As raw bytes: HMAC's update is generic over DataProtocol, and a slice's regions cost more.
        input.withUnsafeBytes { copy.update(data: $0) }
        return copy.finalize()
    }
}
