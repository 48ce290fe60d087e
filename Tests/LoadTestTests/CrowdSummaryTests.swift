import Foundation
import Testing

@testable import LoadTest

@Suite struct CrowdSummaryTests {
    func record(
        _ step: CrowdRecord.Step, _ status: Int, _ code: String, at ms: Int64, tookMicros latency: Int64,
        bot: Bool = false
    )
        -> CrowdRecord
    {
        CrowdRecord(isBot: bot, step: step, status: status, code: code, startMicros: ms * 1000, latencyMicros: latency)
    }

    @Test func linesAreParsedAndAnythingElseIsNot() {
        #expect(
            CrowdRecord(line: "h order 201 ok 1700000000000000 2500")
                == CrowdRecord(
                    isBot: false, step: .order, status: 201, code: "ok", startMicros: 1_700_000_000_000_000,
                    latencyMicros: 2500))
        #expect(CrowdRecord(line: "b token 429 rate_limited 5 6")?.isBot == true)
        for line in [
            "", "h order 201 ok 1", "x order 201 ok 1 2", "h refund 200 ok 1 2", "h order two ok 1 2", "P 0 1 2 3",
        ] {
            #expect(CrowdRecord(line: Substring(line)) == nil, "\(line)")
        }
    }

    @Test func stepsOutcomesPercentilesAndOrders() {
        var records: [CrowdRecord] = []
        for index in 0..<100 {
            records.append(record(.token, 200, "ok", at: Int64(index) * 10, tookMicros: Int64(index + 1) * 1000))
        }
        records.append(record(.token, 409, "sold_out", at: 1000, tookMicros: 500))
        records.append(record(.precheck, 200, "ok", at: 0, tookMicros: 300))
        records.append(record(.order, 201, "ok", at: 100, tookMicros: 900))
        records.append(record(.order, 201, "ok", at: 1500, tookMicros: 500, bot: true))
        records.append(record(.order, 409, "already_ordered", at: 1600, tookMicros: 400, bot: true))
        let summary = CrowdSummary(records: records, buyers: 120, bots: 3)
        let token = summary.steps["token"]
        #expect(token?.answers == 101)
        #expect(token?.outcomes == ["ok": 100, "sold_out": 1])
        // Latencies 0.5 ms and 1…100 ms: the 51st of 101 is 50 ms, the 100th is 99 ms.
        #expect(token?.p50Ms == 50)
        #expect(token?.p99Ms == 99)
        #expect(summary.steps["order"]?.outcomes == ["ok": 2, "already_ordered": 1])
        #expect(summary.orders == 2 && summary.botOrders == 1)
        // From the first start (0) to the end of the last answer: the bot's refusal, sent at
        // 1,600 ms, took 0.4 ms (the slowest token, sent at 990 ms, ended at 1,090 ms). The
        // last order was sent at 1,500 ms and took 0.5 ms.
        #expect(summary.seconds == 1.6004)
        #expect(summary.lastOrderSeconds == 1.5005)
        #expect(summary.ordersPerSecond == 2 / 1.5005)
        #expect(summary.answers == 105)
    }

    @Test func noRecordsIsAnEmptySummary() {
        let summary = CrowdSummary(records: [], buyers: 0, bots: 0)
        #expect(summary.answers == 0 && summary.orders == 0 && summary.steps.isEmpty)
        #expect(summary.lastOrderSeconds == nil && summary.ordersPerSecond == nil)
    }

    @Test func progressLinesCarryCountsAndRefusalsAndAnythingElseIsNot() throws {
        let parsed = try #require(Crowd.progress("P 3 120 40 55 sold_out=60 busy=20"))
        #expect(parsed.thread == 3)
        #expect(parsed.progress.answers == 120 && parsed.progress.orders == 40 && parsed.progress.buyersDone == 55)
        #expect(parsed.progress.refusals == ["sold_out": 60, "busy": 20])
        #expect(Crowd.progress("P 0 1 0 0")?.progress.refusals == [:])
        // A pair the thread should not have written does not cost the line its counts.
        #expect(Crowd.progress("P 0 5 1 1 busy busy=x =2 sold_out=3")?.progress.refusals == ["": 2, "sold_out": 3])
        for line in ["", "P 1 2 3", "Q 0 1 0 0", "P 0 1 0 x", "Running 1m test"] {
            #expect(Crowd.progress(line) == nil, "\(line)")
        }
    }
}
