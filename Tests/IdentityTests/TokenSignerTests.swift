import Crypto
import Foundation
import Identity
import JWTKit
import Testing

@Suite struct TokenSignerTests {
    /// The claims of RFC 7515 appendix A.1, with no expiry check: its `exp` is in 2011.
    struct ExampleClaims: CheckedClaims, Equatable {
        var iss: IssuerClaim
        var exp: ExpirationClaim
        var isRoot: BoolClaim

        enum CodingKeys: String, CodingKey {
            case iss, exp
            case isRoot = "http://example.com/is_root"
        }

        func check() {}
    }

    static let exampleKey =
        "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"
    static let exampleToken =
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
        + ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
        + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

    var exampleSigner: TokenSigner {
        get throws { TokenSigner(secret: try #require(Fixtures.base64URLDecoded(Self.exampleKey))) }
    }

    @Test func verifiesTheRFC7515Example() throws {
        let claims = try exampleSigner.verify(Self.exampleToken, as: ExampleClaims.self)
        #expect(claims.iss.value == "joe")
        #expect(claims.exp.value == Date(timeIntervalSince1970: 1_300_819_380))
        #expect(claims.isRoot.value)
    }

    @Test func theRFC7515ExampleIsExpiredAsAnIdentity() throws {
        let signer = try exampleSigner
        #expect(throws: TokenError.expired) { try signer.verify(Self.exampleToken, as: UserClaims.self) }
    }

    @Test func oneChangedCharacterOfTheRFC7515SignatureFails() throws {
        let signer = try exampleSigner
        let forged = Self.exampleToken.replacing(".dBjft", with: ".eBjft")
        #expect(forged != Self.exampleToken)
        #expect(throws: TokenError.badSignature) { try signer.verify(forged, as: ExampleClaims.self) }
    }

    @Test func signsHS256AndVerifiesUserClaims() throws {
        let claims = UserClaims(user: "user-42", expires: Fixtures.time(600))
        let token = try Fixtures.signer.sign(claims)
        // jwt-kit keeps header fields in a dictionary, so their order varies: compare them decoded.
        let encodedHeader = try #require(token.split(separator: ".").first)
        let headerBytes = try #require(Fixtures.base64URLDecoded(String(encodedHeader)))
        let header = try JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: String]
        #expect(header == ["alg": "HS256", "typ": "JWT"])
        #expect(try Fixtures.signer.verify(token, as: UserClaims.self) == claims)
    }

    @Test func tokensOfJWTKitsOwnKeyCollectionVerifyAndOursVerifyThere() async throws {
        let keys = await JWTKeyCollection().add(hmac: HMACKey(from: Fixtures.secret), digestAlgorithm: .sha256)
        let claims = UserClaims(user: "user-42", expires: Fixtures.time(600), level: 3)
        let theirs = try await keys.sign(claims)
        #expect(try Fixtures.signer.verify(theirs, as: UserClaims.self) == claims)
        let ours = try Fixtures.signer.sign(claims)
        #expect(try await keys.verify(ours, as: UserClaims.self) == claims)
        let forged = try await JWTKeyCollection().add(
            hmac: HMACKey(from: Fixtures.otherSecret), digestAlgorithm: .sha256
        )
        .sign(claims)
        #expect(throws: TokenError.badSignature) { try Fixtures.signer.verify(forged, as: UserClaims.self) }
    }

    @Test func anyHeaderSpellingOfHS256IsAcceptedAndAnotherAlgorithmStillRefusedAfterIt() throws {
        let signer = TokenSigner(secret: Fixtures.secret)
        let payload = Fixtures.base64URL(#"{"sub":"user-42","exp":4102444800}"#)
        // As PyJWT writes it, with spaces, and with the fields the other way round.
        for header in [#"{"alg": "HS256", "typ": "JWT"}"#, #"{"typ":"JWT","alg":"HS256"}"#, #"{"alg":"HS256"}"#] {
            let input = "\(Fixtures.base64URL(header)).\(payload)"
            let signature = Data(
                HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: Fixtures.secret)))
            let token =
                input + "."
                + signature.base64EncodedString()
                .replacing("+", with: "-").replacing("/", with: "_").replacing("=", with: "")
            #expect(try signer.verify(token, as: UserClaims.self).sub.value == "user-42", "\(header)")
            #expect(throws: TokenError.badSignature) {
                try signer.verify(token.dropLast(2) + (token.hasSuffix("AA") ? "AB" : "AA"), as: UserClaims.self)
            }
        }
        let none = "\(Fixtures.base64URL(#"{"alg":"none","typ":"JWT"}"#)).\(payload)."
        #expect(throws: TokenError.invalid("the token is signed with none, not HS256")) {
            try signer.verify(none, as: UserClaims.self)
        }
    }

    @Test func signsAndVerifiesOrderTokenClaims() throws {
        let claims = OrderTokenClaims(user: "user-42", sale: "spring-2026", expires: Fixtures.time(30))
        let token = try Fixtures.signer.sign(claims)
        #expect(try Fixtures.signer.verify(token, as: OrderTokenClaims.self) == claims)
    }

    @Test func refusesATokenSignedWithAnotherSecret() throws {
        let token = try Fixtures.userToken("user-42", by: Fixtures.forger)
        #expect(throws: TokenError.badSignature) { try Fixtures.signer.verify(token, as: UserClaims.self) }
        let order = try Fixtures.forger.sign(OrderTokenClaims(user: "u", sale: "s", expires: Fixtures.time(30)))
        #expect(throws: TokenError.badSignature) { try Fixtures.signer.verify(order, as: OrderTokenClaims.self) }
    }

    @Test func refusesExpiredTokens() throws {
        let user = try Fixtures.userToken("user-42", expiresIn: -1)
        #expect(throws: TokenError.expired) { try Fixtures.signer.verify(user, as: UserClaims.self) }
        let order = try Fixtures.signer.sign(OrderTokenClaims(user: "u", sale: "s", expires: Fixtures.time(-1)))
        #expect(throws: TokenError.expired) { try Fixtures.signer.verify(order, as: OrderTokenClaims.self) }
    }

    static let header = Fixtures.base64URL(#"{"alg":"HS256","typ":"JWT"}"#)
    static let payload = Fixtures.base64URL(#"{"sub":"user-42","exp":4102444800}"#)

    @Test(arguments: [
        "", ".", "..", "...", "a", "a.b", "a.b.c", "a.b.c.d", "!!!.???.***", "é.é.é", "\0.\0.\0",
        "\(header).\(payload)", "\(header).\(payload).sig.extra", "\(header).\(payload).!!!",
        "\(header).!!!.c2ln", "!!!.\(payload).c2ln", "\(Fixtures.base64URL("not json")).\(payload).c2ln",
        "\(header).\(Fixtures.base64URL("not json")).c2ln",
    ])
    func refusesGarbageAsMalformed(_ token: String) {
        #expect(throws: TokenError.malformed) { try Fixtures.signer.verify(token, as: UserClaims.self) }
    }

    @Test func aWellSignedPayloadWithoutExpiryIsMalformedForUserClaims() throws {
        struct SubjectOnly: CheckedClaims {
            var sub: SubjectClaim
            func check() {}
        }
        let token = try Fixtures.signer.sign(SubjectOnly(sub: "user-42"))
        #expect(throws: TokenError.malformed) { try Fixtures.signer.verify(token, as: UserClaims.self) }
    }

    @Test func refusesAnotherAlgorithmInTheHeader() {
        let unsigned = "\(Fixtures.base64URL(#"{"alg":"none"}"#)).\(Self.payload)."
        #expect(throws: TokenError.invalid("the token is signed with none, not HS256")) {
            try Fixtures.signer.verify(unsigned, as: UserClaims.self)
        }
    }

    @Test(arguments: [
        "", String(repeating: "u", count: 129), "a\u{0}b", "line\nbreak", "tab\there", "del\u{7F}", "c1\u{85}",
    ])
    func refusesUnacceptableUserIDs(_ user: String) throws {
        let token = try Fixtures.userToken(user)
        #expect {
            try Fixtures.signer.verify(token, as: UserClaims.self)
        } throws: { error in
            guard case .invalid = error as? TokenError else { return false }
            return true
        }
    }

    @Test(arguments: ["u", "user-42", String(repeating: "é", count: 128), "名前 with spaces", "a@b.example"])
    func acceptsUserIDsOfOneTo128Characters(_ user: String) throws {
        let token = try Fixtures.userToken(user)
        #expect(try Fixtures.signer.verify(token, as: UserClaims.self).sub.value == user)
    }

    @Test func aMissingSubjectIsRefusedButExpiryComesFirst() throws {
        let live = try Fixtures.signer.sign(ExpiryOnly(exp: ExpirationClaim(value: Fixtures.time(600))))
        #expect(throws: TokenError.invalid("the token names no user (sub is missing or empty)")) {
            try Fixtures.signer.verify(live, as: UserClaims.self)
        }
        let expired = try Fixtures.signer.sign(ExpiryOnly(exp: ExpirationClaim(value: Fixtures.time(-60))))
        #expect(throws: TokenError.expired) { try Fixtures.signer.verify(expired, as: UserClaims.self) }
    }

    @Test func anOrderTokenIsNotAnIdentityOfAnotherShape() throws {
        let order = try Fixtures.signer.sign(OrderTokenClaims(user: "u", sale: "", expires: Fixtures.time(30)))
        #expect(throws: TokenError.invalid("the order token names no sale")) {
            try Fixtures.signer.verify(order, as: OrderTokenClaims.self)
        }
        let identity = try Fixtures.userToken("user-42")
        #expect(throws: TokenError.malformed) { try Fixtures.signer.verify(identity, as: OrderTokenClaims.self) }
    }

    @Test func manyThreadsCanSignAndVerifyAtOnce() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<32 {
                group.addTask {
                    let token = try Fixtures.userToken("user-\(index)")
                    #expect(try Fixtures.signer.verify(token, as: UserClaims.self).sub.value == "user-\(index)")
                }
            }
            try await group.waitForAll()
        }
    }
}
