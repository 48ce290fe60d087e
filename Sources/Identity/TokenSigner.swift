import JWTKit

/// HS256 signing and verification with one shared secret, synchronously.
///
/// jwt-kit does the work (its key collection is an actor, bridged by ``runBlocking(_:)``); this
/// type adds the synchronous surface, a check that the header says HS256, and ``TokenError``.
public final class TokenSigner: Sendable {
    private let keys: JWTKeyCollection
    private let parser = DefaultJWTParser()

    /// The name of the one algorithm signed and accepted.
    public static let algorithm = "HS256"

    /// `secret` is the HMAC key: at least 32 bytes (the SHA-256 output), as RFC 7518 §3.2 requires.
    public init(secret: [UInt8]) {
        precondition(secret.count >= 32, "an HS256 secret needs at least 32 bytes; this one has \(secret.count)")
        let key = HMACKey(from: secret)
        keys = runBlocking { await JWTKeyCollection().add(hmac: key, digestAlgorithm: .sha256) }
    }

    /// The compact JWT for `payload`; its header says `"alg":"HS256","typ":"JWT"` (in no fixed order).
    public func sign<Payload: JWTPayload>(_ payload: Payload) throws -> String {
        let keys = keys
        return try runBlocking { try await keys.sign(payload) }
    }

    /// The payload of `token` once its shape, header, signature and the payload's own `verify`
    /// (expiry, for the claims in this module) have passed.
    public func verify<Payload: JWTPayload>(
        _ token: String, as _: Payload.Type = Payload.self
    ) throws(TokenError) -> Payload {
        // jwt-kit reports bad base64 in the signature with its base64 library's error and checks
        // no `alg`, so the shape and the header are checked here first.
        let header: JWTHeader
        do {
            header = try parser.parse(Array(token.utf8), as: AnyClaims.self).header
        } catch {
            throw .malformed
        }
        guard header.alg == Self.algorithm else {
            throw .invalid("the token is signed with \(header.alg ?? "no algorithm"), not \(Self.algorithm)")
        }
        let keys = keys
        do {
            return try runBlocking { try await keys.verify(token, as: Payload.self) }
        } catch {
            throw TokenError(error)
        }
    }
}

/// Any JSON object: decoding the payload as this checks the token's shape and nothing else.
private struct AnyClaims: JWTPayload {
    func verify(using _: some JWTAlgorithm) async throws {}
}
