import Foundation
import Identity
import JWTKit

/// Secrets, signers and tokens the identity tests share.
enum Fixtures {
    static let secret = Array("the secret shared with the main site".utf8)
    static let otherSecret = Array("a secret that someone else guessed".utf8)
    static let signer = TokenSigner(secret: secret)
    static let forger = TokenSigner(secret: otherSecret)

    /// A whole second (JWT dates are seconds), `offset` seconds from now.
    static func time(_ offset: TimeInterval) -> Date {
        Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + offset).rounded())
    }

    static func userToken(_ user: String, expiresIn offset: TimeInterval = 600, by signer: TokenSigner = signer)
        throws -> String
    {
        try signer.sign(UserClaims(user: user, expires: time(offset)))
    }

    /// Decodes base64url (RFC 4648 §5). Foundation decodes only the standard alphabet with
    /// padding and jwt-kit keeps its decoder internal, so the two differences are undone here.
    static func base64URLDecoded(_ text: String) -> [UInt8]? {
        let standard = text.replacing("-", with: "+").replacing("_", with: "/")
        let padded = standard + String(repeating: "=", count: (4 - standard.count % 4) % 4)
        return Data(base64Encoded: padded).map(Array.init)
    }

    /// Base64url of `text`, for hand-made tokens.
    static func base64URL(_ text: String) -> String {
        Data(text.utf8).base64EncodedString()
            .replacing("+", with: "-").replacing("/", with: "_").replacing("=", with: "")
    }
}

/// A payload that only carries an expiry and enforces nothing.
struct ExpiryOnly: CheckedClaims, Equatable {
    var exp: ExpirationClaim
    func check() {}
}
