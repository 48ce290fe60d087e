import Foundation

/// A load test's summary as the lines the command prints.
public enum LoadTestReport {
    public static func lines(_ summary: CrowdSummary, plan: CrowdPlan) -> [String] {
        var lines = [
            String(
                format: "%d answers in %.2f s (%.0f/s) from %d buyers (%d of them bots) on %d connections",
                summary.answers, summary.seconds, summary.answersPerSecond, summary.buyers, summary.bots,
                plan.concurrency),
            "",
            "| step | answers | per second | p50 ms | p99 ms | outcomes |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for step in CrowdRecord.Step.allCases {
            guard let figures = summary.steps[step.rawValue] else { continue }
            let outcomes = figures.outcomes.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
                .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            lines.append(
                String(
                    format: "| %@ | %d | %.0f | %.2f | %.2f | %@ |", step.rawValue, figures.answers, figures.perSecond,
                    figures.p50Ms, figures.p99Ms, outcomes))
        }
        lines.append("")
        if let last = summary.lastOrderSeconds, let rate = summary.ordersPerSecond {
            lines.append(
                String(
                    format: "%d orders (%d by bots), the last %.2f s after the first request: %.0f orders/s",
                    summary.orders, summary.botOrders, last, rate))
        } else {
            lines.append("no orders")
        }
        return lines
    }
}
