import Foundation
import Testing

@testable import LoadTest

@Suite struct CrowdPlanAndPlotTests {
    let plan = CrowdPlan(
        base: URL(string: "http://127.0.0.1:8080")!, sale: "spring", buyers: 1000, concurrency: 10, seconds: 30,
        botShare: 0.05)

    @Test func theBotsAreTheirShareSpreadOverTheCrowd() {
        let users = plan.users(run: "r1")
        #expect(users.count == 1000 && Set(users.map(\.user)).count == 1000)
        #expect(users.first?.user == "loadtest-r1-000000" && users.last?.user == "loadtest-r1-000999")
        let bots = users.indices.filter { users[$0].isBot }
        #expect(bots.count == 50)
        // One in every twenty, in each tenth of the list.
        for tenth in 0..<10 {
            #expect(bots.filter { $0 / 100 == tenth }.count == 5)
        }
        var none = plan
        none.botShare = 0
        #expect(!none.users(run: "r1").contains { $0.isBot })
    }

    @Test func aSoundPlanHasNoProblemAndEachBadOneSaysWhy() {
        #expect(plan.problem == nil)
        var plans: [(CrowdPlan, String)] = []
        var bad = plan
        bad.base = URL(string: "ftp://h")!
        plans.append((bad, "http"))
        bad = plan
        bad.base = URL(string: "http://h/shop")!
        plans.append((bad, "no path"))
        bad = plan
        bad.sale = "Spring!"
        plans.append((bad, "sale id"))
        bad = plan
        bad.concurrency = 2000
        plans.append((bad, "concurrency"))
        bad = plan
        bad.buyers = 5
        plans.append((bad, "more connections"))
        bad = plan
        bad.seconds = 0
        plans.append((bad, "duration"))
        bad = plan
        bad.botShare = -0.1
        plans.append((bad, "share of bots"))
        bad = plan
        bad.botRounds = 0
        plans.append((bad, "bot buys"))
        for (plan, says) in plans {
            #expect(plan.problem?.contains(says) == true, "\(plan.problem ?? "none")")
        }
    }

    @Test func thePlotHasADotPerAnswerAP99LinePerStepAndAnEscapedTitle() {
        var records: [CrowdRecord] = []
        for index in 0..<300 {
            let step = CrowdRecord.Step.allCases[index % 3]
            records.append(
                CrowdRecord(
                    isBot: false, step: step, status: 200, code: "ok", startMicros: 1_000_000 + Int64(index) * 10_000,
                    latencyMicros: Int64(500 + index * 100)))
        }
        let svg = LatencyPlot.svg(records, title: "sale <a&b>", maxDots: 150)
        #expect(svg.hasPrefix("<svg ") && svg.hasSuffix("</svg>\n"))
        #expect(svg.contains("sale &lt;a&amp;b&gt;") && !svg.contains("<a&b>"))
        // Every other record, for a 150-dot budget; plus three legend dots.
        #expect(svg.matches(of: #/<circle /#).count == 150 + 3)
        // Three seconds of answers: each step has a line of its p99 per second.
        #expect(svg.matches(of: #/<polyline /#).count == 3)
        #expect(svg.contains(">1 ms<") && svg.contains(">10 ms<") && svg.contains(">100 ms<"))
    }
}
