import Basics
import Buying
import FastCGI
import Foundation
import HTTPTypes
import Hosting
import Identity
import Testing

@Suite struct GuestFunctionTests {
    @Test func outsideTheDemoTheGuestFunctionRefusesToStart() throws {
        let shop = try Shop()
        for value in [nil, "0", "yes", ""] {
            var environment = ["FLASHSALE_DATA": shop.data.path]
            environment[DataDirectory.demoVariable] = value
            #expect(
                performing: { try GuestFunction.fromEnvironment(environment) }, throws: { "\($0)".contains("demo") })
        }
    }

    @Test func aBrowserGetsAGuestIdentityTheBuyingFunctionsAcceptAndKeepsIt() throws {
        let shop = try Shop()
        let guest = try GuestFunction.fromEnvironment([
            "FLASHSALE_DATA": shop.data.path, DataDirectory.demoVariable: "1",
        ])
        let first = shop.call(guest, Request(method: .post, path: "/api/guest"))
        #expect(first.status == .ok)
        let user = try JSONDecoder().decode(GuestFunction.Body.self, from: Data(first.body)).user
        #expect(user.wholeMatch(of: #/guest-[0-9a-f]{16}/#) != nil)
        let cookie = try #require(first.headers[.setCookie])
        #expect(cookie.hasPrefix("fs_user="))
        #expect(cookie.hasSuffix("; Path=/; Max-Age=3600; HttpOnly; SameSite=Strict"))
        let identity = String(cookie.dropFirst("fs_user=".count).prefix { $0 != ";" })
        #expect(try shop.identitySigner.verify(identity, as: UserClaims.self).sub.value == user)

        // The cookie is what the page sends to token: it is the buyer's identity there.
        _ = try shop.createSale("mug", stock: 1)
        let headers: HTTPFields = [.cookie: "fs_user=\(identity)", .contentType: "application/json"]
        let token = shop.call(
            shop.token,
            Request(method: .post, path: "/api/token", headers: headers, body: Array(#"{"sale":"mug"}"#.utf8)))
        #expect(token.status == .ok)

        let again = shop.call(guest, Request(method: .post, path: "/api/guest", headers: headers))
        #expect(try JSONDecoder().decode(GuestFunction.Body.self, from: Data(again.body)).user == user)
        #expect(again.headers[.setCookie] == nil)
        let other = shop.call(guest, Request(method: .post, path: "/api/guest"))
        #expect(try JSONDecoder().decode(GuestFunction.Body.self, from: Data(other.body)).user != user)
    }
}
