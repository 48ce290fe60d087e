import Buying
import FastCGI
import Foundation
import HTTPTypes
import Testing

@Suite struct SaleFlagFunctionTests {
    func flagScript(_ shop: Shop, _ id: String, headers: HTTPFields = [:]) -> Response {
        shop.call(shop.saleFlag, Request(method: .get, path: "/sale/\(id)/sale.js", headers: headers))
    }

    /// The object the script assigns to `window.flashsale.sale`.
    func flag(_ response: Response) throws -> SaleFlagFunction.Flag {
        let text = response.text
        let start = try #require(text.range(of: "window.flashsale.sale = "))
        let json = text[start.upperBound...].dropLast(2)  // ";\n"
        return try JSONDecoder().decode(SaleFlagFunction.Flag.self, from: Data(json.utf8))
    }

    @Test func everyPhaseAndTheSecretOnlyWhileOpen() throws {
        let shop = try Shop()
        let sale = try shop.createSale("spring", stock: 1, startsInMs: 5_000, endsInMs: 60_000)

        let early = flagScript(shop, "spring")
        #expect(early.status == .ok)
        #expect(early.headers[.contentType] == "text/javascript; charset=utf-8")
        #expect(early.headers[.cacheControl] == "public, max-age=1")
        #expect(!early.text.contains(sale.secret))
        #expect(try flag(early).state == .scheduled && flag(early).orderUrl == nil)
        #expect(try flag(early).startsAt == sale.startsAt && flag(early).serverTime == shop.clock.ms)

        shop.clock.advance(by: 5_000)
        let open = flagScript(shop, "spring")
        #expect(try flag(open).state == .open)
        #expect(try flag(open).orderUrl == "/api/order/\(sale.secret)")

        #expect(try shop.buy("alice", sale: "spring").status == .created)
        let soldOut = flagScript(shop, "spring")
        #expect(try flag(soldOut).state == .soldOut && flag(soldOut).orderUrl == nil)
        #expect(!soldOut.text.contains(sale.secret))

        shop.clock.advance(by: 55_000)
        #expect(try flag(flagScript(shop, "spring")).state == .ended)
    }

    @Test func aMatchingETagIsAnsweredNotModifiedUntilTheStateChanges() throws {
        let shop = try Shop()
        try shop.createSale("spring", stock: 1, startsInMs: 5_000)
        let first = flagScript(shop, "spring")
        let tag = try #require(first.headers[.eTag])
        #expect(tag.hasPrefix("W/\""))

        shop.clock.advance(by: 1_000)
        let again = flagScript(shop, "spring", headers: [.ifNoneMatch: tag])
        #expect(again.status == .notModified && again.body.isEmpty && again.headers[.eTag] == tag)
        #expect(!String(decoding: again.cgiBytes(), as: UTF8.self).contains("Content-Length"))
        let strong = String(tag.dropFirst(2))
        #expect(flagScript(shop, "spring", headers: [.ifNoneMatch: "\"other\", \(strong)"]).status == .notModified)

        shop.clock.advance(by: 4_000)
        let opened = flagScript(shop, "spring", headers: [.ifNoneMatch: tag])
        #expect(opened.status == .ok && opened.headers[.eTag] != tag)
    }

    @Test(arguments: [
        "/sale/nope/sale.js", "/sale/spring/other.js", "/sale//sale.js", "/sale/spring/x/sale.js", "/sale/spring",
    ])
    func unknownSalesAndOtherPathsAreNotFound(_ path: String) throws {
        let shop = try Shop()
        try shop.createSale("spring", stock: 1)
        let answer = shop.call(shop.saleFlag, Request(method: .get, path: path))
        #expect(answer == Response(error: Router.notFound))
    }

    /// Answers of one state share their script but for the server time, which is always now.
    @Test func repeatedAnswersCarryTheirOwnServerTime() throws {
        let shop = try Shop()
        try shop.createSale("spring", stock: 1, startsInMs: 5_000)
        let first = flagScript(shop, "spring")
        shop.clock.advance(by: 1_234)
        let second = flagScript(shop, "spring")
        #expect(try flag(second).serverTime == shop.clock.ms && flag(first).serverTime == shop.clock.ms - 1_234)
        var same = try flag(first)
        same.serverTime = try flag(second).serverTime
        #expect(try flag(second) == same && second.headers[.eTag] == first.headers[.eTag])
        #expect(second.text.hasPrefix("window.flashsale = window.flashsale || {};\nwindow.flashsale.sale = {"))
        #expect(second.text.hasSuffix("};\n"))
    }
}
