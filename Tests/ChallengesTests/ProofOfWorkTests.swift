import Crypto
import Foundation
import Testing

@testable import Challenges

@Suite struct ProofOfWorkTests {
    let work = ProofOfWork(secret: Array(repeating: 3, count: 32))

    @Test func zeroBitsAreCountedFromTheFirstByte() {
        #expect(ProofOfWork.zeroBits(of: [0xFF]) == 0)
        #expect(ProofOfWork.zeroBits(of: [0x01, 0xFF]) == 7)
        #expect(ProofOfWork.zeroBits(of: [0x00, 0x10]) == 11)
        #expect(ProofOfWork.zeroBits(of: [0, 0]) == 16)
    }

    @Test func aNonceLastsItsWindowAndIsAcceptedInTheNext() throws {
        let window = ProofOfWork.windowMs
        let start: Int64 = 1_800_000_000_123
        let now = start + 100
        let nonce = try #require(work.nonce(sale: "mug", startMs: start, nowMs: now))
        #expect(work.nonce(sale: "mug", startMs: start, nowMs: now + window - 200) == nonce)
        #expect(work.nonce(sale: "mug", startMs: start, nowMs: start + window) != nonce)
        #expect(work.nonce(sale: "lamp", startMs: start, nowMs: now) != nonce)
        #expect(work.nonce(sale: "mug", startMs: start + 1, nowMs: now) != nonce)
        #expect(work.isCurrent(nonce, sale: "mug", startMs: start, nowMs: now + window))
        #expect(!work.isCurrent(nonce, sale: "mug", startMs: start, nowMs: start + 2 * window))
        #expect(!work.isCurrent(nonce, sale: "lamp", startMs: start, nowMs: now))
        #expect(ProofOfWork.expiry(startMs: start, nowMs: now) == start + 2 * window)
        #expect(nonce.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
    }

    /// Windows are counted from the sale's start: 1 ms before it there is no nonce, at it the
    /// first, and no nonce of a window before the start (or of the clock's own windows, as
    /// before) is ever accepted, not even in the first window.
    @Test func thereIsNothingToSolveBeforeTheStart() throws {
        let window = ProofOfWork.windowMs
        let start: Int64 = 1_800_000_007_777
        #expect(work.nonce(sale: "mug", startMs: start, nowMs: start - 1) == nil)
        let first = try #require(work.nonce(sale: "mug", startMs: start, nowMs: start))
        #expect(first == work.nonce(sale: "mug", startMs: start, window: 0))
        #expect(!work.isCurrent(first, sale: "mug", startMs: start, nowMs: start - 1))
        let early = (1...4).map { work.nonce(sale: "mug", startMs: start, window: -$0) }
        for now in [start, start + 1, start + window - 1, start + window] {
            #expect(work.isCurrent(first, sale: "mug", startMs: start, nowMs: now))
            for nonce in early { #expect(!work.isCurrent(nonce, sale: "mug", startMs: start, nowMs: now)) }
        }
    }

    /// Known answers from another SHA-256 (Python's hashlib, checked with `sha256sum`), so the
    /// check is not judged by itself: SHA-256("n:394") = 001ee8df…, 11 leading zero bits;
    /// SHA-256("n:5") = 14d75f14…, 3; SHA-256("abc-_9:0") = 2ad30169…, 2; SHA-256("n:0") =
    /// d00479e1…, none.
    @Test(arguments: [
        ("n", "394", 11), ("n", "5", 3), ("n", "2", 1), ("n", "0", 0), ("abc-_9", "0", 2), ("abc-_9", "99", 1),
        ("abc-_9", "123456789012", 0),
    ])
    func aCounterSolvesAsManyBitsAsItsHashHasLeadingZeros(nonce: String, counter: String, zeros: Int) {
        #expect(ProofOfWork.solves(nonce: nonce, counter: counter, bits: zeros))
        #expect(!ProofOfWork.solves(nonce: nonce, counter: counter, bits: zeros + 1))
    }

    /// Every counter below 394 has fewer than 10 leading zero bits in SHA-256("n:<counter>").
    @Test func theFirstCounterOfNonceNWithTenZeroBitsIs394() {
        #expect((0..<100_000).first { ProofOfWork.solves(nonce: "n", counter: "\($0)", bits: 10) } == 394)
    }

    @Test func theSolutionIsJudgedOnSHA256OfNonceColonCounter() {
        for counter in ["0", "7", "123456789012", "99"] {
            let digest = Array(SHA256.hash(data: Data("abc-_9:\(counter)".utf8)))
            let bits = ProofOfWork.zeroBits(of: digest)
            #expect(ProofOfWork.solves(nonce: "abc-_9", counter: counter, bits: bits))
            #expect(!ProofOfWork.solves(nonce: "abc-_9", counter: counter, bits: bits + 1))
        }
    }

    @Test func cachedNoncesAreTheOnesComputedFreshInAnyOrderAndForManySales() {
        let window = ProofOfWork.windowMs
        let start: Int64 = 1_800_000_000_000
        let times = [start + window, start + 3 * window, start + window, start + window, start + 3 * window + 1]
        let sales = (0..<300).map { "sale-\($0)" }
        for now in times {
            for sale in sales where sale.hasSuffix("7") || sale == "sale-0" {
                let fresh = ProofOfWork(secret: Array(repeating: 3, count: 32))
                #expect(
                    work.nonce(sale: sale, startMs: start, nowMs: now)
                        == fresh.nonce(sale: sale, startMs: start, nowMs: now))
                let previous = fresh.nonce(sale: sale, startMs: start, nowMs: now - window)!
                #expect(work.isCurrent(previous, sale: sale, startMs: start, nowMs: now))
            }
        }
        // A sale started again (the demo's restart) gets nonces of its new start.
        #expect(
            work.nonce(sale: "sale-0", startMs: start + 5, nowMs: start + window)
                != work.nonce(sale: "sale-0", startMs: start, nowMs: start + window))
        // More sales than the cache keeps: each still gets its own nonce.
        let nonces = Set(sales.map { work.nonce(sale: $0, startMs: start, nowMs: start) })
        #expect(nonces.count == sales.count)
    }
}
