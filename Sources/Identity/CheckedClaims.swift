import JWTKit

/// A JWT payload whose claims check themselves synchronously (expiry first, then the rest),
/// as ``TokenSigner`` verifies. jwt-kit's asynchronous `verify(using:)` runs the same check.
public protocol CheckedClaims: JWTPayload {
    /// Throws jwt-kit's claim errors when a claim is unacceptable.
    func check() throws
}

extension CheckedClaims {
    public func verify(using _: some JWTAlgorithm) async throws {
        try check()
    }
}
