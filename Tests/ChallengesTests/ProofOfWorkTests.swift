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
}
