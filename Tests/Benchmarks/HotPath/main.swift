import Basics
// The cost of each step of a token request with every check on, in one process: the
// signatures (identity and pass verified, order token signed), the proof of work, the
// shared tables' keys, an account lease and an address rate. Each step runs over distinct
// inputs, the median of 5 rounds. Prints Markdown.
//
// Usage: .build/release/hot-path-benchmark   (make bench-topics builds and runs it)
import Challenges
import Foundation
import Identity
import Sales
import Segment
import Store

let rounds = 5
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hot-path-bench-\(getpid())")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }
let segment = try StockSegment(path: directory.appendingPathComponent("stock.segment").path, databaseID: 1)

/// Nanoseconds per operation of `body` over `count` distinct inputs, the median of the rounds.
@MainActor func measure(_ count: Int, _ body: (Int, Int64) throws -> Void) rethrows -> Double {
    var results: [Double] = []
    for round in 0..<rounds {
        let base = Int64(round) * 3_600_000 + 1_800_000_000_000
        let start = DispatchTime.now().uptimeNanoseconds
        for index in 0..<count { try body(index, base + Int64(index / 1_000)) }
        results.append(Double(DispatchTime.now().uptimeNanoseconds - start) / Double(count))
    }
    return results.sorted()[rounds / 2]
}

let secret = Array(repeating: UInt8(7), count: 32)
let signer = TokenSigner(secret: secret)
let expires = Date().addingTimeInterval(3_600)
let tokens = 20_000
let identities = try (0..<tokens).map { try signer.sign(UserClaims(user: "buyer-\($0)", expires: expires, level: 1)) }
let passes = try (0..<tokens).map {
    try signer.sign(CaptchaClaims(kind: .pass, user: "buyer-\($0)", sale: "s", id: "jti-\($0)", expires: expires))
}
var checksum = 0
let verifyIdentity = try measure(tokens) { index, _ in
    checksum &+= try signer.verify(identities[index], as: UserClaims.self).level ?? 0
}
let verifyPass = try measure(tokens) { index, _ in
    checksum &+= try signer.verify(passes[index], as: CaptchaClaims.self).jti.utf8.count
}
let signOrder = try measure(tokens) { index, _ in
    checksum &+= try signer.sign(OrderTokenClaims(user: "buyer-\(index)", sale: "s", expires: expires)).utf8.count
}

let store = try SQLiteSaleStore(path: directory.appendingPathComponent("flashsale.sqlite").path)
_ = try store.create(NewSale(id: "s", title: "S", price: 1, stock: 1_000, startsAt: 0, endsAt: nil), nowMs: 0)
for buyer in 0..<1_000 { _ = try store.placeOrder(sale: "s", user: "buyer-\(buyer * 20)", nowMs: 0) }
let hasOrder = try measure(tokens) { index, _ in
    if try store.hasOrder(sale: "s", user: "buyer-\(index)") { checksum &+= 1 }
}

let work = ProofOfWork(secret: secret)
let nonce = work.nonce(sale: "s", startMs: 0, nowMs: 1_800_000_000_000)!
let powCheck = measure(200_000) { index, _ in
    if work.isCurrent(nonce, sale: "s", startMs: 0, nowMs: 1_800_000_000_000),
        ProofOfWork.solves(nonce: nonce, counter: String(index), bits: 0)
    {
        checksum &+= 1
    }
}

let operations = 1_000_000
let keys = (0..<operations).map { fnv1a64(Array("user-\($0)".utf8)) }
let tableKeys = TableKeys(secret: secret)
let keyCost = measure(operations) { index, _ in
    checksum &+= Int(truncatingIfNeeded: tableKeys.key("account", "user-\(index)"))
}
let leases = segment.accountLeases
let rates = segment.addressRates
var granted = 0
let lease = measure(operations) { index, now in
    if case .acquired(let held) = leases.acquire(keys[index], nowMs: now, leaseMs: 10_000) {
        granted += 1
        leases.release(held)
    }
}
/// Allowed, limited, table full (the segment's table is never unavailable).
var verdicts = [0, 0, 0]
@MainActor func tally(_ verdict: RateVerdict) {
    switch verdict {
    case .allowed: verdicts[0] += 1
    case .limited, .unavailable: verdicts[1] += 1
    case .tableFull: verdicts[2] += 1
    }
}
// One address first: the distinct addresses leave the table full of debts.
let sameKey = measure(operations) { _, now in tally(rates.admit(42, nowMs: now, perSecond: 1000, maxBlockMs: 60_000)) }
let single = verdicts
verdicts = [0, 0, 0]
let rate = measure(operations) { index, now in
    tally(rates.admit(keys[index], nowMs: now, perSecond: 10, maxBlockMs: 60_000))
}
print("| step of a token request | ns |")
print("|---|---:|")
print(String(format: "| verify the identity (HS256 JWT: signature, claims, expiry) | %.0f |", verifyIdentity))
print(String(format: "| verify the captcha pass (HS256 JWT) | %.0f |", verifyPass))
print(String(format: "| sign the order token (HS256 JWT) | %.0f |", signOrder))
print(String(format: "| has the buyer ordered? (SQLite point read, 1,000 orders of 20,000 buyers) | %.0f |", hasOrder))
print(String(format: "| proof of work: nonce current and solution's SHA-256 | %.0f |", powCheck))
print(String(format: "| a shared table's key: HMAC-SHA256 of the account or address | %.0f |", keyCost))
print(String(format: "| account lease: acquire and release (distinct accounts) | %.0f |", lease))
print(String(format: "| address rate: admit (distinct addresses) | %.0f |", rate))
print(String(format: "| address rate: admit (one address, mostly refused) | %.0f |", sameKey))
print("")
let describe = { (counts: [Int]) in
    "\(counts[0]) allowed, \(counts[1]) limited, \(counts[2]) let through by a full table"
}
print("Checksum \(checksum % 1_000) (printed so the work is not optimised away).")
print("Leases granted: \(granted) of \(operations * rounds). One address: \(describe(single)).")
print("Distinct addresses (a million a round into 65,536 words, so the table fills): \(describe(verdicts)).")
