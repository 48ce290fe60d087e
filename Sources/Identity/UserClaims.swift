import Foundation
import JWTKit

/// A buyer's identity, as the main site signs it: `sub` is the user id, `exp` is enforced.
/// Other claims the site adds (`iss`, `iat`, …) are ignored.
public struct UserClaims: JWTPayload, Equatable {
    public var sub: SubjectClaim
    public var exp: ExpirationClaim

    public init(sub: SubjectClaim, exp: ExpirationClaim) {
        self.sub = sub
        self.exp = exp
    }

    public init(user: String, expires: Date) {
        self.init(sub: SubjectClaim(value: user), exp: ExpirationClaim(value: expires))
    }

    /// Refuses an expired token first, then a user id that is missing or not acceptable.
    public func verify(using _: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        try sub.verifyUserID()
    }
}

extension UserClaims {
    private enum CodingKeys: String, CodingKey {
        case sub, exp
    }

    /// A missing `sub` decodes as empty and is refused by `verify` after `exp`, so an expired
    /// token is reported as expired whatever else it lacks. A missing `exp` is malformed.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.sub = try container.decodeIfPresent(SubjectClaim.self, forKey: .sub) ?? SubjectClaim(value: "")
        self.exp = try container.decode(ExpirationClaim.self, forKey: .exp)
    }
}
