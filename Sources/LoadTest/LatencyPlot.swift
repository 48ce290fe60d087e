import Foundation

/// The latencies of a load test over its time, as an SVG: one dot per answer (an even sample of
/// at most `maxDots`), coloured by step, on a logarithmic latency axis, with each step's p99
/// per second drawn as a line.
public enum LatencyPlot {
    static let width = 880.0
    static let height = 420.0
    static let margin = (left: 64.0, right: 150.0, top: 36.0, bottom: 44.0)
    static let colours: [CrowdRecord.Step: String] = [.token: "#2f6fbf", .precheck: "#2e9c5a", .order: "#d9771f"]

    public static func svg(_ records: [CrowdRecord], title: String, maxDots: Int = 4000) -> String {
        let start = records.map(\.startMicros).min() ?? 0
        let seconds = max(1, (Double((records.map { $0.startMicros + $0.latencyMicros }.max() ?? start) - start) / 1e6))
        let slowest = max(1, Double(records.map(\.latencyMicros).max() ?? 1000) / 1000)
        let decades = (low: -1, high: Int(log10(slowest).rounded(.up)))
        let plotWidth = width - margin.left - margin.right
        let plotHeight = height - margin.top - margin.bottom
        func x(_ second: Double) -> Double { margin.left + second / seconds * plotWidth }
        func y(_ ms: Double) -> Double {
            let position = (log10(max(ms, 0.1)) - Double(decades.low)) / Double(decades.high - decades.low)
            return margin.top + plotHeight * (1 - position)
        }
        var parts: [String] = [
            ##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(Int(width))" height="\##(Int(height))" viewBox="0 0 \##(Int(width)) \##(Int(height))" font-family="sans-serif" font-size="12">"##,
            ##"<rect width="100%" height="100%" fill="#ffffff"/>"##,
            ##"<text x="\##(margin.left)" y="22" font-size="14" font-weight="bold">\##(escaped(title))</text>"##,
        ]
        for decade in decades.low...decades.high {
            let ms = pow(10, Double(decade))
            let label = ms < 1 ? String(format: "%.1f", ms) : String(Int(ms))
            parts.append(
                ##"<line x1="\##(margin.left)" x2="\##(margin.left + plotWidth)" y1="\##(fixed(y(ms)))" y2="\##(fixed(y(ms)))" stroke="#e4e4e4"/>"##
            )
            parts.append(
                ##"<text x="\##(margin.left - 8)" y="\##(fixed(y(ms) + 4))" text-anchor="end">\##(label) ms</text>"##)
        }
        let step = max(1, Int((seconds / 8).rounded(.up)))
        for second in stride(from: 0, through: Int(seconds), by: step) {
            let position = fixed(x(Double(second)))
            parts.append(
                ##"<text x="\##(position)" y="\##(fixed(height - margin.bottom + 18))" text-anchor="middle">\##(second) s</text>"##
            )
        }
        parts.append(
            ##"<rect x="\##(margin.left)" y="\##(margin.top)" width="\##(plotWidth)" height="\##(plotHeight)" fill="none" stroke="#999"/>"##
        )
        let stride = max(1, records.count / max(1, maxDots))
        for (index, record) in records.enumerated() where index % stride == 0 {
            let second = Double(record.startMicros - start) / 1e6
            parts.append(
                ##"<circle cx="\##(fixed(x(second)))" cy="\##(fixed(y(Double(record.latencyMicros) / 1000)))" r="1.6" fill="\##(colours[record.step]!)" fill-opacity="0.45"/>"##
            )
        }
        for (row, step) in CrowdRecord.Step.allCases.enumerated() {
            let line = p99PerSecond(records.filter { $0.step == step }, start: start)
            if line.count > 1 {
                let points = line.map { "\(fixed(x($0.second + 0.5))),\(fixed(y($0.ms)))" }.joined(separator: " ")
                parts.append(
                    ##"<polyline points="\##(points)" fill="none" stroke="\##(colours[step]!)" stroke-width="2"/>"##)
            }
            let legendY = margin.top + 16 + Double(row) * 20
            parts.append(
                ##"<circle cx="\##(width - margin.right + 20)" cy="\##(legendY - 4)" r="4" fill="\##(colours[step]!)"/>"##
            )
            parts.append(
                ##"<text x="\##(width - margin.right + 30)" y="\##(legendY)">\##(step.rawValue) (line: p99)</text>"##)
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n") + "\n"
    }

    /// Each whole second's p99 latency in ms.
    static func p99PerSecond(_ records: [CrowdRecord], start: Int64) -> [(second: Double, ms: Double)] {
        let bySecond = Dictionary(grouping: records) { ($0.startMicros - start) / 1_000_000 }
        return bySecond.keys.sorted().map { second in
            (Double(second), CrowdSummary.percentile(bySecond[second]!.map(\.latencyMicros).sorted(), 99))
        }
    }

    private static func fixed(_ value: Double) -> String { String(format: "%.1f", value) }

    private static func escaped(_ text: String) -> String {
        text.replacing("&", with: "&amp;").replacing("<", with: "&lt;").replacing(">", with: "&gt;")
    }
}
