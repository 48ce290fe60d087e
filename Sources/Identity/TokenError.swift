import JWTKit

/// Why a token was refused.
public enum TokenError: Error, Equatable, Sendable {
    /// Not three base64url parts of JSON, or a payload without the fields its type needs.
    case malformed
    /// Three base64url parts, but not in the one spelling RFC 7515 allows: padding (`=`), or
    /// spare bits set in a part's last character, which a lenient decoder ignores.
    case notCanonical
    /// Well formed, but not signed with this secret.
    case badSignature
    /// Correctly signed, but its `exp` has passed.
    case expired
    /// Correctly signed, but its `nbf` has not come yet.
    case notYetValid
    /// Correctly signed, but its `iat` is later than now by more than ``TimeClaims/allowedSkew``.
    case issuedInTheFuture
    /// Correctly signed, but a claim or the header is unacceptable; the reason says which.
    case invalid(String)
}

extension TokenError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .malformed: "the token is malformed"
        case .notCanonical: "the token is not canonical base64url (padding, or spare bits set in a last character)"
        case .badSignature: "the token's signature does not verify"
        case .expired: "the token has expired"
        case .notYetValid: "the token is not valid yet (its nbf is in the future)"
        case .issuedInTheFuture:
            "the token was issued in the future (its iat is more than \(Int(TimeClaims.allowedSkew)) s ahead)"
        case .invalid(let reason): "the token is invalid: \(reason)"
        }
    }
}

extension TokenError {
    /// The refusal an error from jwt-kit (or from a payload's `verify`) stands for.
    init(_ error: any Error) {
        switch error {
        case let error as TokenError:
            self = error
        case let error as JWTError where error.errorType == .malformedToken:
            self = .malformed
        case let error as JWTError where error.errorType == .signatureVerificationFailed:
            self = .badSignature
        case let error as JWTError where error.failedClaim is ExpirationClaim:
            self = .expired
        case let error as JWTError where error.failedClaim is NotBeforeClaim:
            self = .notYetValid
        case let error as JWTError where error.failedClaim is IssuedAtClaim:
            self = .issuedInTheFuture
        case let error as JWTError where error.errorType == .claimVerificationFailure:
            self = .invalid(error.reason ?? "a claim failed verification")
        default:
            self = .invalid(String(describing: error))
        }
    }
}
