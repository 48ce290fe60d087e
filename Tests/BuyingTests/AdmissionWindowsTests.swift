import Testing

@testable import Buying

@Suite struct AdmissionWindowsTests {
    let secret = [UInt8](repeating: 7, count: 32)

    /// Every process computes the same boundaries from the secret alone, each within the first
    /// quarter after k·L, and the window of a moment turns exactly at them.
    @Test func boundariesAreTheSameInEveryProcessAndTurnTheWindow() {
        let windows = AdmissionWindows(secret: secret, lengthMs: 30_000)
        let again = AdmissionWindows(secret: secret, lengthMs: 30_000)
        let first: Int64 = 1_800_000_000_000 / 30_000
        for k in first..<(first + 200) {
            let start = windows.start(of: k, sale: "mug")
            #expect(start == again.start(of: k, sale: "mug"))
            #expect(k * 30_000 <= start && start < k * 30_000 + 7_500)
            #expect(windows.window(sale: "mug", nowMs: start) == k)
            #expect(windows.window(sale: "mug", nowMs: start - 1) == k - 1)
            #expect(again.window(sale: "mug", nowMs: start + 22_000) == k)
        }
    }

    /// Without the secret the boundaries cannot be told: another secret, or another sale, moves
    /// them, and they spread over the whole jitter span rather than a few offsets.
    @Test func boundariesCannotBePredictedWithoutTheKey() {
        let windows = AdmissionWindows(secret: secret, lengthMs: 30_000)
        let other = AdmissionWindows(secret: [UInt8](repeating: 8, count: 32), lengthMs: 30_000)
        let ks = Array(Int64(60_000_000)..<60_000_200)
        let offsets = ks.map { windows.start(of: $0, sale: "mug") - $0 * 30_000 }
        let elsewhere = ks.map { other.start(of: $0, sale: "mug") - $0 * 30_000 }
        let lamp = ks.map { windows.start(of: $0, sale: "lamp") - $0 * 30_000 }
        #expect(zip(offsets, elsewhere).filter { $0 == $1 }.count < 5)
        #expect(zip(offsets, lamp).filter { $0 == $1 }.count < 5)
        #expect(Set(offsets).count > 190)
        #expect(Set(offsets.map { $0 / 1_875 }).count == 4)  // every quarter of the span is used
    }

    /// Boundaries a process remembers are the ones computed fresh, asked in any order and for
    /// more sales and windows than it keeps.
    @Test func rememberedBoundariesAreTheOnesComputedFresh() {
        let windows = AdmissionWindows(secret: secret, lengthMs: 30_000)
        let first: Int64 = 60_000_000
        let asked = (0..<3_000).map { (sale: "sale-\($0 % 300)", window: first + Int64(($0 * 7) % 20)) }
        for (sale, window) in asked + asked.reversed() {
            let fresh = AdmissionWindows(secret: secret, lengthMs: 30_000)
            #expect(windows.start(of: window, sale: sale) == fresh.start(of: window, sale: sale))
        }
    }

    /// `Retry-After` never sends a buyer back before the window opens, and spreads the return
    /// over its jitter span.
    @Test func retryAfterIsNeverEarlyAndIsSpread() {
        let windows = AdmissionWindows(secret: secret, lengthMs: 30_000)
        let answers = (0..<400).map { _ in windows.retryAfterSeconds(untilMs: 10_500, nowMs: 0) }
        #expect(answers.allSatisfy { 11 <= $0 && $0 <= 19 })
        #expect(Set(answers).count >= 5)
        #expect(windows.retryAfterSeconds(untilMs: 0, nowMs: 0) >= 1)
    }
}
