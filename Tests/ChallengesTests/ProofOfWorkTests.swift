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

    @Test func aNonceLastsItsWindowAndIsAcceptedInTheNext() {
        let window = ProofOfWork.windowMs
        let now: Int64 = 1_800_000_000_000 / window * window + 100
        let nonce = work.nonce(sale: "mug", nowMs: now)
        #expect(work.nonce(sale: "mug", nowMs: now + window - 200) == nonce)
        #expect(work.nonce(sale: "mug", nowMs: now + window) != nonce)
        #expect(work.nonce(sale: "lamp", nowMs: now) != nonce)
        #expect(work.isCurrent(nonce, sale: "mug", nowMs: now + window))
        #expect(!work.isCurrent(nonce, sale: "mug", nowMs: now + 2 * window))
        #expect(!work.isCurrent(nonce, sale: "lamp", nowMs: now))
        #expect(ProofOfWork.expiry(nowMs: now) == now - 100 + 2 * window)
        #expect(nonce.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
    }

    @Test func onlyACounterWithEnoughZeroBitsSolves() throws {
        let solution = try #require((0..<100_000).first { ProofOfWork.solves(nonce: "n", counter: "\($0)", bits: 10) })
        #expect(!ProofOfWork.solves(nonce: "other", counter: "\(solution)", bits: 10) || solution == 0)
        let unsolved = try #require((0..<100).first { !ProofOfWork.solves(nonce: "n", counter: "\($0)", bits: 4) })
        #expect(!ProofOfWork.solves(nonce: "n", counter: "\(unsolved)", bits: 4))
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
        let times = [start, start + 3 * window, start + window, start, start + 3 * window + 1]
        let sales = (0..<300).map { "sale-\($0)" }
        for now in times {
            for sale in sales where sale.hasSuffix("7") || sale == "sale-0" {
                let fresh = ProofOfWork(secret: Array(repeating: 3, count: 32))
                #expect(work.nonce(sale: sale, nowMs: now) == fresh.nonce(sale: sale, nowMs: now))
                #expect(work.isCurrent(fresh.nonce(sale: sale, nowMs: now - window), sale: sale, nowMs: now))
            }
        }
        // More sales than the cache keeps: each still gets its own nonce.
        let nonces = Set(sales.map { work.nonce(sale: $0, nowMs: start) })
        #expect(nonces.count == sales.count)
    }
}
