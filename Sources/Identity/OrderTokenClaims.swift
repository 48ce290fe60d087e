import Foundation
import JWTKit

/// An order token: bound to a user (`sub`) and a sale, short-lived (`exp`). Whoever accepts one
/// still compares `sub` and `sale` with the user and sale of the request. It has no `kind`:
/// a captcha challenge or pass, signed with the same secret, is refused as an order token.
public struct OrderTokenClaims: CheckedClaims, Equatable {
    public var sub: SubjectClaim
    public var sale: String
    public var exp: ExpirationClaim
    /// The admission window the token was issued in (`win`), which its order gives back; none
    /// in a token from elsewhere (a test or a benchmark).
    public var window: UInt32?
    /// Not signed here; honoured when present (see ``TimeClaims``).
    public var nbf: NotBeforeClaim?
    public var iat: IssuedAtClaim?
    /// Always nil in an order token; decoded only to refuse other tokens.
    var kind: String?

    private enum CodingKeys: String, CodingKey {
        case sub, sale, exp, kind, nbf, iat
        case window = "win"
    }

    public init(sub: SubjectClaim, sale: String, exp: ExpirationClaim, window: UInt32? = nil) {
        self.sub = sub
        self.sale = sale
        self.exp = exp
        self.window = window
    }

    public init(user: String, sale: String, expires: Date, window: UInt32? = nil) {
        self.init(sub: SubjectClaim(value: user), sale: sale, exp: ExpirationClaim(value: expires), window: window)
    }

    /// Refuses an expired token, then one not valid yet or issued in the future, then an
    /// unacceptable user id or an empty sale.
    public func check() throws {
        try exp.verifyNotExpired()
        try TimeClaims.verify(notBefore: nbf, issuedAt: iat)
        try sub.verifyUserID()
        guard !sale.isEmpty else {
            throw JWTError.claimVerificationFailure(failedClaim: nil, reason: "the order token names no sale")
        }
        guard kind == nil else {
            throw JWTError.claimVerificationFailure(failedClaim: nil, reason: "a \(kind ?? "") is not an order token")
        }
    }
}
