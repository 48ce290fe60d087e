import FastCGI
import HTTPTypes

/// Who is asking: the user id from `Authorization: Bearer <jwt>` or else the `fs_user` cookie,
/// each a ``UserClaims`` token signed by the main site.
public struct IdentityReader: Sendable {
    /// The cookie the main site sets.
    public static let cookieName = "fs_user"

    private let signer: TokenSigner

    public init(signer: TokenSigner) {
        self.signer = signer
    }

    /// The user id of `request`. A Bearer header wins over the cookie (another scheme, such as
    /// Basic, is not an identity and the cookie is read). No identity, or one that is malformed,
    /// not canonical, badly signed, expired, not valid yet, issued in the future or names no
    /// acceptable user, is 401 `unauthorized`.
    public func user(of request: Request) throws(HTTPError) -> String {
        try claims(of: request).sub.value
    }

    /// The verified identity of `request`, with its account level; refused as ``user(of:)``.
    public func claims(of request: Request) throws(HTTPError) -> UserClaims {
        let token: Substring
        let source: String
        if let bearer = request.bearerToken {
            (token, source) = (bearer, "the Bearer token")
        } else if let cookie = request.cookie(named: Self.cookieName) {
            (token, source) = (cookie, "the \(Self.cookieName) cookie")
        } else {
            throw Self.unauthorized("no identity: send Authorization: Bearer <token> or the \(Self.cookieName) cookie")
        }
        guard !token.isEmpty else { throw Self.unauthorized("\(source) is empty") }
        do throws(TokenError) {
            return try signer.verify(String(token), as: UserClaims.self)
        } catch {
            let message =
                switch error {
                case .malformed: "\(source) is not a well-formed token"
                case .notCanonical: "\(source) is not canonical base64url (no padding, no spare bits set)"
                case .badSignature: "\(source) is not signed by the main site"
                case .expired: "\(source) has expired; sign in again"
                case .notYetValid: "\(source) is not valid yet (nbf is in the future)"
                case .issuedInTheFuture:
                    "\(source) was issued in the future (iat is more than \(Int(TimeClaims.allowedSkew)) s ahead of this server)"
                case .invalid(let reason): "\(source) is refused: \(reason)"
                }
            throw Self.unauthorized(message)
        }
    }

    private static func unauthorized(_ message: String) -> HTTPError {
        HTTPError(.unauthorized, message, headers: [.wwwAuthenticate: "Bearer"])
    }
}
