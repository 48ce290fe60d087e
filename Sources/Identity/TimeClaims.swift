import Foundation
import JWTKit

/// The optional time claims every token here honours besides `exp`: `nbf` (not before) and
/// `iat` (issued at), each allowed to run ahead of this machine's clock by ``allowedSkew``.
public enum TimeClaims {
    /// How far a token's `nbf` or `iat` may be ahead of this machine's clock, in seconds: the
    /// main site's clock and ours, each kept by NTP, differ by far less, while a token signed
    /// to be used later (an `iat` a day ahead, which outlives a rotation) is refused.
    public static let allowedSkew: TimeInterval = 60

    /// Throws jwt-kit's claim error naming `nbf` or `iat` when either is more than
    /// ``allowedSkew`` after `now`.
    static func verify(notBefore: NotBeforeClaim?, issuedAt: IssuedAtClaim?, now: Date = Date()) throws {
        guard notBefore != nil || issuedAt != nil else { return }
        let latest = now.addingTimeInterval(allowedSkew)
        try notBefore?.verifyNotBefore(currentDate: latest)
        if let issuedAt, issuedAt.value > latest {
            throw JWTError.claimVerificationFailure(failedClaim: issuedAt, reason: "issued in the future")
        }
    }
}
