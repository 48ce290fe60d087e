import Foundation
import Sales
import Segment
import TestSupport
import Testing

@Suite struct AddressRatesTests {
    @Test func aBurstOfTheRateThenOneRequestPerIntervalAndRetryAfterSaysWhen() throws {
        let table = try FreshSegment()
        defer { table.dir.remove() }
        let admit = { (now: Int64) in table.segment.addressRates.admit(5, nowMs: now, perSecond: 5, maxBlockMs: 60_000)
        }
        for _ in 0..<5 { #expect(admit(10_000) == .allowed) }
        #expect(admit(10_000) == .limited(retryAfterMs: 400))
        #expect(admit(10_399) == .limited(retryAfterMs: 201))  // asked too early: one interval more
        #expect(admit(10_800) == .allowed)  // waited as told
        // Another key has its own bucket.
        #expect(table.segment.addressRates.admit(6, nowMs: 10_000, perSecond: 5, maxBlockMs: 60_000) == .allowed)
    }

    /// An address that keeps asking while refused blocks itself, up to the longest block.
    @Test func hammeringGrowsTheBlockUpToItsLimit() throws {
        let table = try FreshSegment()
        defer { table.dir.remove() }
        var last = RateVerdict.allowed
        for _ in 0..<200 { last = table.segment.addressRates.admit(8, nowMs: 50_000, perSecond: 2, maxBlockMs: 30_000) }
        #expect(last == .limited(retryAfterMs: 30_000))
        #expect(table.segment.addressRates.admit(8, nowMs: 79_000, perSecond: 2, maxBlockMs: 30_000) != .allowed)
        #expect(table.segment.addressRates.admit(8, nowMs: 80_600, perSecond: 2, maxBlockMs: 30_000) == .allowed)
    }

    /// Times are kept modulo 2^40 µs: a bucket across the wrap behaves as any other.
    @Test func aBucketAcrossTheWrapOfTheClock() throws {
        let table = try FreshSegment()
        defer { table.dir.remove() }
        let start = (Int64(1) << 40) * 3 / 1000 - 300  // ms, 300 ms before the µs clock wraps
        for _ in 0..<4 {
            #expect(table.segment.addressRates.admit(3, nowMs: start, perSecond: 4, maxBlockMs: 1_000) == .allowed)
        }
        #expect(
            table.segment.addressRates.admit(3, nowMs: start, perSecond: 4, maxBlockMs: 1_000)
                == .limited(retryAfterMs: 500))
        #expect(table.segment.addressRates.admit(3, nowMs: start + 500, perSecond: 4, maxBlockMs: 1_000) == .allowed)
    }

    @Test func aFullNeighbourhoodLetsRequestsThroughAndFreesWithTime() throws {
        let table = try FreshSegment()
        defer { table.dir.remove() }
        let keys = (0..<UInt64(AccountLeases.wordsPerKey + 1)).map { 123 + ($0 + 1) << 40 }
        for key in keys.dropLast() {
            #expect(table.segment.addressRates.admit(key, nowMs: 1_000, perSecond: 1, maxBlockMs: 5_000) == .allowed)
        }
        let last = keys.last!
        #expect(table.segment.addressRates.admit(last, nowMs: 1_000, perSecond: 1, maxBlockMs: 5_000) == .tableFull)
        #expect(table.segment.addressRates.admit(last, nowMs: 2_001, perSecond: 1, maxBlockMs: 5_000) == .allowed)
    }

    /// Requests of one address on many threads at one instant: exactly the burst gets through.
    @Test func exactlyTheBurstGetsThroughFromManyThreads() throws {
        let table = try FreshSegment()
        defer { table.dir.remove() }
        let allowed = Tally()
        let rates = table.segment.addressRates
        #expect(
            onThreads(8) { _ in
                for _ in 0..<500 where rates.admit(11, nowMs: 7_000, perSecond: 50, maxBlockMs: 60_000) == .allowed {
                    allowed.add(1)
                }
            })
        #expect(allowed.value == 50)
    }

    /// High rates keep their own interval (kept in µs): 600 a second is not 1000.
    @Test func aHighRateKeepsItsInterval() throws {
        let table = try FreshSegment()
        defer { table.dir.remove() }
        let admit = { (now: Int64) in table.segment.addressRates.admit(4, nowMs: now, perSecond: 600, maxBlockMs: 1_000)
        }
        for _ in 0..<600 { #expect(admit(5_000) == .allowed) }
        #expect(admit(5_000) == .limited(retryAfterMs: 4))  // one interval, 1.67 ms, and the refusal's own
        #expect(admit(5_004) == .allowed)
        #expect(admit(5_004) != .allowed)  // 1000 a second would allow this one
    }
}
