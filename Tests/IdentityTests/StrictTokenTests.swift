import Crypto
import Foundation
import HTTPTypes
import Identity
import JWTKit
import Testing

import struct FastCGI.Request

/// Every token the project verifies has one spelling and honours `nbf` and `iat`.
@Suite struct StrictTokenTests {
    /// The four kinds of token verified: the shop's identity, the order token, and the captcha
    /// challenge and pass.
    enum Kind: CaseIterable, CustomTestStringConvertible {
        case identity, order, challenge, pass

        var testDescription: String { "\(self)" }

        /// A token of this kind, valid for ten minutes, with the given time claims.
        func token(notBefore: TimeInterval? = nil, issuedAt: TimeInterval? = nil) throws -> String {
            let nbf = notBefore.map { NotBeforeClaim(value: Fixtures.time($0)) }
            let iat = issuedAt.map { IssuedAtClaim(value: Fixtures.time($0)) }
            let expires = Fixtures.time(600)
            switch self {
            case .identity:
                var claims = UserClaims(user: "user-42", expires: expires)
                (claims.nbf, claims.iat) = (nbf, iat)
                return try Fixtures.signer.sign(claims)
            case .order:
                var claims = OrderTokenClaims(user: "user-42", sale: "mug", expires: expires)
                (claims.nbf, claims.iat) = (nbf, iat)
                return try Fixtures.signer.sign(claims)
            case .challenge, .pass:
                var claims = CaptchaClaims(
                    kind: self == .pass ? .pass : .challenge, user: "user-42", sale: "mug", id: "c1",
                    expires: expires, digest: self == .pass ? nil : "ZGlnZXN0")
                (claims.nbf, claims.iat) = (nbf, iat)
                return try Fixtures.signer.sign(claims)
            }
        }

        /// Verifies `token` as this kind, as the function that takes it does.
        func verify(_ token: String) throws(TokenError) {
            switch self {
            case .identity: _ = try Fixtures.signer.verify(token, as: UserClaims.self)
            case .order: _ = try Fixtures.signer.verify(token, as: OrderTokenClaims.self)
            case .challenge, .pass: _ = try Fixtures.signer.verify(token, as: CaptchaClaims.self)
            }
        }
    }

    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    /// The other spellings of `part` that a lenient decoder reads as the same bytes: its last
    /// character with other spare bits, and `=` padding.
    static func respellings(of part: Substring) -> [String] {
        let spare = [0, 0, 0x0F, 0x03][part.count % 4]
        let value = alphabet.firstIndex(of: part.last!)!
        let lastCharacters = (1...3).compactMap { $0 <= spare ? alphabet[value | $0] : nil }
        return lastCharacters.map { part.dropLast() + String($0) } + [part + "=", part + "=="]
    }

    /// `header.payload` signed with the fixtures' secret, the signature spelled canonically.
    static func signed(_ input: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: Fixtures.secret))
        return input + "."
            + Data(mac).base64EncodedString()
            .replacing("+", with: "-").replacing("/", with: "_").replacing("=", with: "")
    }

    /// The attack as filed: a signature of 32 bytes is 43 characters whose last has 2 spare
    /// bits, so four last characters (and a trailing `=`) verified. Only the one written does.
    @Test(arguments: Kind.allCases)
    func aSignatureHasOneSpelling(_ kind: Kind) throws {
        let token = try kind.token()
        try kind.verify(token)
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        let spellings = Self.respellings(of: parts[2])
        #expect(spellings.count == 5)
        for spelling in spellings {
            let respelled = "\(parts[0]).\(parts[1]).\(spelling)"
            #expect(throws: TokenError.notCanonical, "\(spelling)") { try kind.verify(respelled) }
        }
    }

    /// The header and payload too: respelled and then signed (as only a holder of the secret
    /// could), they are still refused, so no token the project accepts has two spellings.
    @Test(arguments: Kind.allCases)
    func aHeaderAndPayloadHaveOneSpelling(_ kind: Kind) throws {
        let parts = try kind.token().split(separator: ".", omittingEmptySubsequences: false)
        let payloads = Self.respellings(of: parts[1]).map { "\(parts[0]).\($0)" }
        let headers = Self.respellings(of: parts[0]).map { "\($0).\(parts[1])" }
        // A payload whose length leaves no spare bits is padded to one that does.
        let padded = parts[1].count % 4 == 0 ? [] : ["\(parts[0]).\(parts[1])="]
        for input in payloads + headers + padded {
            #expect(throws: TokenError.notCanonical, "\(input)") { try kind.verify(Self.signed(input)) }
        }
        try kind.verify(Self.signed("\(parts[0]).\(parts[1])"))
    }

    @Test(arguments: Kind.allCases)
    func aNotBeforeInTheFutureIsRefusedAndOneWithinTheSkewAccepted(_ kind: Kind) throws {
        #expect(throws: TokenError.notYetValid) { try kind.verify(try kind.token(notBefore: 24 * 3600)) }
        #expect(throws: TokenError.notYetValid) {
            try kind.verify(try kind.token(notBefore: TimeClaims.allowedSkew + 30))
        }
        try kind.verify(try kind.token(notBefore: TimeClaims.allowedSkew - 30))
        try kind.verify(try kind.token(notBefore: -60))
    }

    @Test(arguments: Kind.allCases)
    func anIssuedAtBeyondTheSkewIsRefusedAndOneWithinItAccepted(_ kind: Kind) throws {
        #expect(throws: TokenError.issuedInTheFuture) { try kind.verify(try kind.token(issuedAt: 24 * 3600)) }
        #expect(throws: TokenError.issuedInTheFuture) {
            try kind.verify(try kind.token(issuedAt: TimeClaims.allowedSkew + 30))
        }
        try kind.verify(try kind.token(issuedAt: TimeClaims.allowedSkew - 30))
        try kind.verify(try kind.token(issuedAt: 0))
        try kind.verify(try kind.token(issuedAt: -3600))
    }

    /// Expiry is still reported first: an expired token is expired whatever its `nbf`.
    @Test func anExpiredTokenIsExpiredWhateverItsNotBefore() throws {
        var claims = UserClaims(user: "user-42", expires: Fixtures.time(-1))
        claims.nbf = NotBeforeClaim(value: Fixtures.time(3600))
        let token = try Fixtures.signer.sign(claims)
        #expect(throws: TokenError.expired) { try Fixtures.signer.verify(token, as: UserClaims.self) }
    }

    /// A time claim that is no NumericDate is malformed, not ignored.
    @Test func aTimeClaimThatIsNoNumberIsMalformed() {
        let header = Fixtures.base64URL(#"{"alg":"HS256","typ":"JWT"}"#)
        for claims in [#""nbf":"tomorrow""#, #""iat":"now""#] {
            let payload = Fixtures.base64URL(#"{"sub":"user-42","exp":4102444800,\#(claims)}"#)
            #expect(throws: TokenError.malformed) {
                try Fixtures.signer.verify(Self.signed("\(header).\(payload)"), as: UserClaims.self)
            }
        }
    }

    /// The shop's identity is refused with 401 and a message that says why.
    @Test(arguments: [
        (try! Kind.identity.token(notBefore: 3600), "the Bearer token is not valid yet (nbf is in the future)"),
        (
            try! Kind.identity.token(issuedAt: 3600),
            "the Bearer token was issued in the future (iat is more than 60 s ahead of this server)"
        ),
        (
            try! Kind.identity.token() + "=",
            "the Bearer token is not canonical base64url (no padding, no spare bits set)"
        ),
    ])
    func theIdentityIsRefusedWith401AndTheReason(_ token: String, _ message: String) {
        let request = Request(method: .get, path: "/api/token", headers: [.authorization: "Bearer \(token)"])
        do {
            _ = try IdentityReader(signer: Fixtures.signer).user(of: request)
            Issue.record("the identity was accepted")
        } catch {
            #expect(error.status == .unauthorized)
            #expect(error.message == message)
        }
    }
}
