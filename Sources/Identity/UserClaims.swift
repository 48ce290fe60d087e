import Foundation
import JWTKit

/// A buyer's identity, as the main site signs it: `sub` is the user id, `exp` is enforced,
/// `nbf` and `iat` when present are honoured (see ``TimeClaims``), `level` (optional) is the
/// account's level, which a sale may require a minimum of. Other claims the site adds (`iss`,
/// `jti`, …) are ignored.
public struct UserClaims: CheckedClaims, Equatable {
    public var sub: SubjectClaim
    public var exp: ExpirationClaim
    /// The account's level on the main site; none counts as 0.
    public var level: Int?
    public var nbf: NotBeforeClaim?
    public var iat: IssuedAtClaim?

    public init(sub: SubjectClaim, exp: ExpirationClaim, level: Int? = nil) {
        self.sub = sub
        self.exp = exp
        self.level = level
    }

    public init(user: String, expires: Date, level: Int? = nil) {
        self.init(sub: SubjectClaim(value: user), exp: ExpirationClaim(value: expires), level: level)
    }

    /// Refuses an expired token first, then one not valid yet or issued in the future, then a
    /// user id that is missing or not acceptable.
    public func check() throws {
        try exp.verifyNotExpired()
        try TimeClaims.verify(notBefore: nbf, issuedAt: iat)
        try sub.verifyUserID()
    }
}

extension UserClaims {
    private enum CodingKeys: String, CodingKey {
        case sub, exp, level, nbf, iat
    }

    /// A missing `sub` decodes as empty and is refused by `verify` after `exp`, so an expired
    /// token is reported as expired whatever else it lacks. A missing `exp`, or an `nbf` or
    /// `iat` that is not a NumericDate, is malformed.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.sub = try container.decodeIfPresent(SubjectClaim.self, forKey: .sub) ?? SubjectClaim(value: "")
        self.exp = try container.decode(ExpirationClaim.self, forKey: .exp)
        // A level that is not a whole number (a main site's own scheme) counts as none.
        self.level = (try? container.decodeIfPresent(Int.self, forKey: .level)) ?? nil
        // Looked up before decoding: Foundation's generic decodeIfPresent of an absent key (as
        // in nearly every identity) costs as much again, on every request.
        self.nbf = container.contains(.nbf) ? try container.decode(NotBeforeClaim.self, forKey: .nbf) : nil
        self.iat = container.contains(.iat) ? try container.decode(IssuedAtClaim.self, forKey: .iat) : nil
    }
}
