import Basics
import Buying
import Foundation
import Hosting
import Identity
import Synchronization
import TestSupport
import Testing

/// The admission window through `flashsale serve`: lighttpd and several token processes.
@Suite struct AdmissionTests {
    /// Ten accounts looping on /api/token against a 1-unit sale, whose window admits ten: each
    /// account counts once per window whichever process answers it, and rests through the next
    /// window after one it did not order in, so an honest buyer who arrives while the bots loop
    /// and waits as `Retry-After` says gets a token in the next window at the latest. A rest
    /// that ended a few milliseconds early (lease ticks) let bots in two windows running.
    /// (Counted per process, 4 bots took 10 of 10 and the next buyer waited out the window.)
    @Test func anHonestBuyerGetsATokenWithinTwoWindowsBesideTenLoopingBots() throws {
        let shop = try LiveShop(environment: [
            "FLASHSALE_TOKEN_TTL_SECONDS": "3", "FLASHSALE_ADMISSION_MULTIPLE": "10",
        ])
        let sale = try shop.createSale("one", stock: 1)
        let windows = AdmissionWindows(
            secret: try shop.host.data.keyBytes(shop.host.data.secretKey), lengthMs: 3_000)
        let admitted = Mutex<Set<[Int64]>>([])  // [bot, window] of every token a bot got
        let honest = Mutex<(arrived: Int64?, window: UInt32?, answers: [String])>((nil, nil, []))
        let stop = Atomic(false)
        let started = Date()
        let window: @Sendable (String) -> UInt32? = { token in
            try? shop.orderSigner.verify(token, as: OrderTokenClaims.self).window
        }
        let finished = onThreads(11, within: 90) { thread in
            if thread < 10 {
                for _ in 0..<5_000 where !stop.load(ordering: .relaxed) && Date().timeIntervalSince(started) < 60 {
                    guard let answer = try? shop.askToken("bot\(thread)", sale: "one"), answer.status == 200,
                        let token = try? answer.json()["token"] as? String, let won = window(token)
                    else { continue }
                    _ = admitted.withLock { $0.insert([Int64(thread), Int64(won)]) }
                }
                return
            }
            // The honest buyer arrives once the bots have been let in 20 times (two windows at
            // least, with a rest between), and waits as told.
            defer { stop.store(true, ordering: .relaxed) }
            let full = eventually(within: 30) { admitted.withLock { $0.count } >= 20 }
            guard full else { return }
            honest.withLock { $0.arrived = windows.window(sale: "one", nowMs: LiveShop.now()) }
            for _ in 0..<10 {
                guard let answer = try? shop.askToken("honest", sale: "one") else { continue }
                honest.withLock { $0.answers.append("\(answer.status) \(answer.errorCode ?? "")") }
                if answer.status == 200, let token = try? answer.json()["token"] as? String {
                    honest.withLock { $0.window = window(token) }
                    return
                }
                guard answer.status == 503, let seconds = answer.headers["retry-after"].flatMap(Double.init) else {
                    return
                }
                Thread.sleep(forTimeInterval: min(seconds, 10))  // as the page does
            }
        }
        #expect(finished)
        let (arrived, won, answers) = honest.withLock { ($0.arrived, $0.window, $0.answers) }
        let arrival = try #require(arrived, "the bots were not admitted 20 times:\n\(shop.logTail)")
        let tokenWindow = try #require(won, "the honest buyer got no token: \(answers)")
        #expect(Int64(tokenWindow) - arrival <= 1, "arrived in \(arrival), admitted in \(tokenWindow): \(answers)")

        // Each bot once per window, in no two windows running; the slot counted exactly those.
        let pairs = admitted.withLock { $0 }
        #expect(pairs.count >= 20, "the bots were admitted \(pairs.count) times")
        for bot in Int64(0)..<10 {
            let ins = pairs.filter { $0[0] == bot }.map { $0[1] }.sorted()
            #expect(zip(ins, ins.dropFirst()).allSatisfy { $1 - $0 >= 2 }, "bot \(bot) in windows \(ins)")
        }
        #expect(try shop.slot(sale).count(.admissions) == Int64(pairs.count) + 1)
    }
}
