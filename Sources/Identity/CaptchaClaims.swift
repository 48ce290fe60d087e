import Foundation
import JWTKit

/// A captcha challenge or the pass that solving it earns, signed with the data directory's
/// secret: bound to a user (`sub`) and a sale, short-lived (`exp`), with an id (`jti`) that a
/// shared table spends, so each is used once. A challenge carries its answer's digest, never
/// the answer. `kind` keeps the three tokens signed with that secret apart: neither is an
/// order token (whose claims refuse any kind), nor the other.
public struct CaptchaClaims: CheckedClaims, Equatable {
    public enum Kind: String, Codable, Sendable {
        case challenge, pass
    }

    public var sub: SubjectClaim
    public var sale: String
    public var kind: Kind
    public var jti: String
    public var exp: ExpirationClaim
    /// A challenge's answer digest (see `AnswerDigest`); none in a pass.
    public var digest: String?
    /// Not signed here; honoured when present (see ``TimeClaims``).
    public var nbf: NotBeforeClaim?
    public var iat: IssuedAtClaim?

    public init(kind: Kind, user: String, sale: String, id: String, expires: Date, digest: String? = nil) {
        self.sub = SubjectClaim(value: user)
        self.sale = sale
        self.kind = kind
        self.jti = id
        self.exp = ExpirationClaim(value: expires)
        self.digest = digest
    }

    public func check() throws {
        try exp.verifyNotExpired()
        try TimeClaims.verify(notBefore: nbf, issuedAt: iat)
        try sub.verifyUserID()
        guard !sale.isEmpty, !jti.isEmpty, (kind == .challenge) == (digest != nil) else {
            throw JWTError.claimVerificationFailure(failedClaim: nil, reason: "the captcha token is incomplete")
        }
    }
}
