import Foundation
import JWTKit

/// An order token: bound to a user (`sub`) and a sale, short-lived (`exp`). Whoever accepts one
/// still compares `sub` and `sale` with the user and sale of the request. It has no `kind`:
/// a captcha challenge or pass, signed with the same secret, is refused as an order token.
public struct OrderTokenClaims: CheckedClaims, Equatable {
    public var sub: SubjectClaim
    public var sale: String
    public var exp: ExpirationClaim
    /// Always nil in an order token; decoded only to refuse other tokens.
    var kind: String?

    public init(sub: SubjectClaim, sale: String, exp: ExpirationClaim) {
        self.sub = sub
        self.sale = sale
        self.exp = exp
    }

    public init(user: String, sale: String, expires: Date) {
        self.init(sub: SubjectClaim(value: user), sale: sale, exp: ExpirationClaim(value: expires))
    }

    /// Refuses an expired token, then an unacceptable user id or an empty sale.
    public func check() throws {
        try exp.verifyNotExpired()
        try sub.verifyUserID()
        guard !sale.isEmpty else {
            throw JWTError.claimVerificationFailure(failedClaim: nil, reason: "the order token names no sale")
        }
        guard kind == nil else {
            throw JWTError.claimVerificationFailure(failedClaim: nil, reason: "a \(kind ?? "") is not an order token")
        }
    }
}
