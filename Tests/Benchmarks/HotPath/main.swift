// The cost per request of the anti-abuse tables in the stock segment: an account lease taken
// and given back, and a per-address rate check. One process, a fresh segment in /tmp, a
// million operations a round over distinct keys, the median of 5 rounds. Prints Markdown.
//
// Usage: .build/release/segment-tables-benchmark   (make bench builds and runs it)
import Challenges
import Foundation
import Segment

let operations = 1_000_000
let rounds = 5
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("segment-bench-\(getpid())")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }
let segment = try StockSegment(path: directory.appendingPathComponent("stock.segment").path, databaseID: 1)
let keys = (0..<operations).map { fnv1a64(Array("user-\($0)".utf8)) }

/// Nanoseconds per operation of `body` over every key, the median of the rounds.
@MainActor func measure(_ body: (UInt64, Int64) -> Void) -> Double {
    var results: [Double] = []
    for round in 0..<rounds {
        let base = Int64(round) * 3_600_000 + 1_800_000_000_000
        let start = DispatchTime.now().uptimeNanoseconds
        for (index, key) in keys.enumerated() { body(key, base + Int64(index / 1_000)) }
        results.append(Double(DispatchTime.now().uptimeNanoseconds - start) / Double(operations))
    }
    return results.sorted()[rounds / 2]
}

let tableKeys = TableKeys(secret: Array(repeating: 7, count: 32))
var sink: UInt64 = 0
let keyCost = measure { _, now in sink ^= tableKeys.key("account", "user-\(now)") }
let leases = segment.accountLeases
let rates = segment.addressRates
var granted = 0
let lease = measure { key, now in
    if case .acquired(let held) = leases.acquire(key, nowMs: now, leaseMs: 10_000) {
        granted += 1
        leases.release(held)
    }
}
/// Allowed, limited, table full.
var verdicts = [0, 0, 0]
@MainActor func tally(_ verdict: AddressRates.Verdict) {
    switch verdict {
    case .allowed: verdicts[0] += 1
    case .limited: verdicts[1] += 1
    case .tableFull: verdicts[2] += 1
    }
}
// One address first: the distinct addresses leave the table full of debts.
let sameKey = measure { _, now in tally(rates.admit(42, nowMs: now, perSecond: 1000, maxBlockMs: 60_000)) }
let single = verdicts
verdicts = [0, 0, 0]
let rate = measure { key, now in tally(rates.admit(key, nowMs: now, perSecond: 10, maxBlockMs: 60_000)) }
print("| table operation | ns per request |")
print("|---|---:|")
print(String(format: "| the entry's key: HMAC-SHA256 of the account or address | %.0f |", keyCost))
print(String(format: "| account lease: acquire and release (distinct accounts) | %.0f |", lease))
print(String(format: "| address rate: admit (distinct addresses) | %.0f |", rate))
print(String(format: "| address rate: admit (one address, mostly refused) | %.0f |", sameKey))
print("")
let describe = { (counts: [Int]) in
    "\(counts[0]) allowed, \(counts[1]) limited, \(counts[2]) let through by a full table"
}
print("Key checksum \(sink % 1_000) (printed so the keys are not optimised away).")
print("Leases granted: \(granted) of \(operations * rounds). One address: \(describe(single)).")
print("Distinct addresses (a million a round into 65,536 words, so the table fills): \(describe(verdicts)).")
