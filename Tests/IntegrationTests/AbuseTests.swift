import Foundation
import Segment
import TestSupport
import Testing

/// Bot-like patterns through real lighttpd, each of which must lose.
@Suite struct AbuseTests {
    /// 200 accounts from one address (every request here comes from 127.0.0.1): the address
    /// gets no more tokens than its rate allows over the time it asked, the rest 429 with the wait.
    @Test func twoHundredAccountsFromOneAddressGetOnlyTheRate() throws {
        let shop = try LiveShop()
        let sale = try shop.createSale("crowded", stock: 1_000, perIPRate: 10)
        let outcomes = Outcomes()
        let started = Date()
        #expect(
            crowd(200, threads: 20) { index in
                outcomes.record("acct\(index)", try? shop.askToken("acct\(index)", sale: "crowded"))
            })
        let seconds = Date().timeIntervalSince(started)
        let issued = outcomes.all.values.filter { $0.status == 200 }.count
        let limited = outcomes.all.values.filter { $0.status == 429 && $0.code == "rate_limited" }.count
        // A burst of 10, then 10 a second: never more over the time the crowd took.
        #expect(
            issued >= 10 && issued <= 10 + Int((10 * seconds).rounded(.up)), "\(outcomes.histogram) in \(seconds) s")
        #expect(issued + limited == 200, "\(outcomes.histogram)")
        #expect(try shop.slot(sale).count(.rejectedRateLimited) == Int64(limited))
    }
}
