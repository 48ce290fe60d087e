import FastCGI
import Foundation
import HTTPTypes
import Identity
import JWTKit
import Testing

@Suite struct IdentityReaderTests {
    let reader = IdentityReader(signer: Fixtures.signer)

    func request(_ fields: [(HTTPField.Name, String)]) -> Request {
        Request(
            method: .get, path: "/api/token", headers: HTTPFields(fields.map { HTTPField(name: $0.0, value: $0.1) }))
    }

    /// The 401 `unauthorized` that `request` is refused with, or nil if it is not.
    func refusal(_ request: Request) -> HTTPError? {
        do {
            _ = try reader.user(of: request)
            return nil
        } catch {
            return error
        }
    }

    /// A main site's own idea of a level (not a whole number) counts as no level, and the
    /// identity still holds.
    @Test func aLevelThatIsNoNumberCountsAsNone() throws {
        struct SiteClaims: CheckedClaims {
            var sub: SubjectClaim
            var exp: ExpirationClaim
            var level: String
            func check() {}
        }
        let token = try Fixtures.signer.sign(
            SiteClaims(sub: SubjectClaim(value: "ann"), exp: ExpirationClaim(value: Fixtures.time(600)), level: "gold"))
        let claims = try reader.claims(of: request([(.authorization, "Bearer \(token)")]))
        #expect(claims.sub.value == "ann" && claims.level == nil)
        let levelled = try Fixtures.signer.sign(UserClaims(user: "bob", expires: Fixtures.time(600), level: 3))
        #expect(try reader.claims(of: request([(.authorization, "Bearer \(levelled)")])).level == 3)
    }

    @Test func readsTheBearerHeader() throws {
        let token = try Fixtures.userToken("user-42")
        #expect(try reader.user(of: request([(.authorization, "Bearer \(token)")])) == "user-42")
        #expect(try reader.user(of: request([(.authorization, "bearer  \(token) ")])) == "user-42")
    }

    @Test func readsTheCookieAmongOthers() throws {
        let token = try Fixtures.userToken("user-42")
        #expect(try reader.user(of: request([(.cookie, "fs_user=\(token)")])) == "user-42")
        #expect(try reader.user(of: request([(.cookie, "a=1; fs_user=\(token); b=2")])) == "user-42")
        #expect(try reader.user(of: request([(.cookie, "a=1;fs_user=\"\(token)\"")])) == "user-42")
        #expect(try reader.user(of: request([(.cookie, "xfs_user=1; fs_user_old=2; fs_user=\(token)")])) == "user-42")
    }

    @Test func readsTheCookieFromSeveralCookieHeaders() throws {
        let token = try Fixtures.userToken("user-42")
        let fields: [(HTTPField.Name, String)] = [(.cookie, "a=1; b=2"), (.cookie, "c=3; fs_user=\(token)")]
        #expect(try reader.user(of: request(fields)) == "user-42")
    }

    @Test func readsWhatTheWebServerPassesAsCGIParameters() throws {
        let bearer = try Fixtures.userToken("from-header")
        let cookie = try Fixtures.userToken("from-cookie")
        let base = ["REQUEST_METHOD": "GET", "REQUEST_URI": "/api/token", "HTTP_COOKIE": "a=1; fs_user=\(cookie)"]
        #expect(try reader.user(of: Request(params: Params(base))) == "from-cookie")
        let both = base.merging(["HTTP_AUTHORIZATION": "Bearer \(bearer)"]) { $1 }
        #expect(try reader.user(of: Request(params: Params(both))) == "from-header")
    }

    @Test func theBearerHeaderWinsOverTheCookie() throws {
        let header = try Fixtures.userToken("from-header")
        let cookie = try Fixtures.userToken("from-cookie")
        let both = request([(.authorization, "Bearer \(header)"), (.cookie, "fs_user=\(cookie)")])
        #expect(try reader.user(of: both) == "from-header")
        let badHeader = request([(.authorization, "Bearer \(header)x"), (.cookie, "fs_user=\(cookie)")])
        #expect(refusal(badHeader)?.message == "the Bearer token is not signed by the main site")
    }

    @Test func anotherSchemeIsNoIdentityAndTheCookieIsRead() throws {
        let cookie = try Fixtures.userToken("from-cookie")
        let fields: [(HTTPField.Name, String)] = [
            (.authorization, "Basic dXNlcjpwYXNz"), (.cookie, "fs_user=\(cookie)"),
        ]
        #expect(try reader.user(of: request(fields)) == "from-cookie")
    }

    struct Refused: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var fields: [(HTTPField.Name, String)]
        var message: String
    }

    static let refused: [Refused] = {
        let expired = try! Fixtures.userToken("user-42", expiresIn: -1)
        let forged = try! Fixtures.userToken("user-42", by: Fixtures.forger)
        let noUser = try! Fixtures.userToken("")
        let missing = "no identity: send Authorization: Bearer <token> or the fs_user cookie"
        return [
            Refused(testDescription: "no header", fields: [], message: missing),
            Refused(testDescription: "other cookies", fields: [(.cookie, "a=1; fs_user_x=2")], message: missing),
            Refused(testDescription: "Basic", fields: [(.authorization, "Basic dXNlcjpwYXNz")], message: missing),
            Refused(
                testDescription: "Bearer, no token", fields: [(.authorization, "Bearer")],
                message: "the Bearer token is empty"),
            Refused(
                testDescription: "Bearer, spaces", fields: [(.authorization, "Bearer   ")],
                message: "the Bearer token is empty"),
            Refused(
                testDescription: "Bearer garbage", fields: [(.authorization, "Bearer a.b")],
                message: "the Bearer token is not a well-formed token"),
            Refused(
                testDescription: "Bearer expired", fields: [(.authorization, "Bearer \(expired)")],
                message: "the Bearer token has expired; sign in again"),
            Refused(
                testDescription: "Bearer forged", fields: [(.authorization, "Bearer \(forged)")],
                message: "the Bearer token is not signed by the main site"),
            Refused(
                testDescription: "Bearer without a user", fields: [(.authorization, "Bearer \(noUser)")],
                message: "the Bearer token is refused: the token names no user (sub is missing or empty)"),
            Refused(
                testDescription: "empty cookie", fields: [(.cookie, "fs_user=")], message: "the fs_user cookie is empty"
            ),
            Refused(
                testDescription: "cookie expired", fields: [(.cookie, "a=1; fs_user=\(expired)")],
                message: "the fs_user cookie has expired; sign in again"),
            Refused(
                testDescription: "cookie forged", fields: [(.cookie, "fs_user=\(forged); b=2")],
                message: "the fs_user cookie is not signed by the main site"),
        ]
    }()

    @Test(arguments: refused)
    func refusesWith401Unauthorized(_ refused: Refused) throws {
        let error = try #require(refusal(request(refused.fields)))
        #expect(error.code == .unauthorized)
        #expect(error.status == .unauthorized)
        #expect(error.status.code == 401)
        #expect(error.message == refused.message)
        #expect(error.headers[.wwwAuthenticate] == "Bearer")
    }

    @Test func aFunctionAnswersTheRefusalAsJSON() throws {
        let function = Function(
            name: "whoami",
            routes: [
                Route("/api/whoami", methods: [.get]) { [reader] request in
                    try Response.json(["user": reader.user(of: request)])
                }
            ])
        let params = Params(["REQUEST_METHOD": "GET", "REQUEST_URI": "/api/whoami", "HTTP_AUTHORIZATION": "Bearer x"])
        let response = function.respond(to: params, maxBodyBytes: 0) { _ in [] }
        #expect(response.status == .unauthorized)
        let body = try JSONDecoder().decode(ErrorBody.self, from: Data(response.body))
        #expect(body.error.code == .unauthorized)
        #expect(body.error.message == "the Bearer token is not a well-formed token")
    }
}
