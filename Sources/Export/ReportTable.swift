import Sales

/// Sale reports as text for people: a table of sales, or the details of one.
public enum ReportTable {
    public static func lines(_ reports: [SaleReport]) -> [String] {
        let header = ["ID", "STATE", "STOCK", "REMAINING", "SOLD", "STARTS", "ENDS"]
        let rows = reports.map {
            [
                $0.id, $0.state.rawValue, String($0.stock), String($0.remaining), String($0.sold), $0.startsAt,
                $0.endsAt ?? "-",
            ]
        }
        return aligned([header] + rows)
    }

    /// Every sale's requests and rejections by reason: one row a sale, one column a counter
    /// (those no sale has counted left out).
    public static func counters(_ reports: [SaleReport]) -> [String] {
        let names = SaleReport.counterNames.filter { name in reports.contains { $0.counters[name, default: 0] != 0 } }
        guard !names.isEmpty else { return ["no requests counted yet"] }
        let rows = reports.map { report in [report.id] + names.map { String(report.counters[$0, default: 0]) } }
        return aligned([["SALE"] + names.map { $0.uppercased() }] + rows)
    }

    private static func aligned(_ table: [[String]]) -> [String] {
        let widths = table[0].indices.map { column in table.map { $0[column].count }.max() ?? 0 }
        return table.map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingTrailingSpaces()
        }
    }

    public static func details(_ report: SaleReport) -> [String] {
        var lines = [
            "sale:      \(report.id)",
            "title:     \(report.title)",
            "price:     \(report.price)",
            "state:     \(report.state.rawValue)",
            "stock:     \(report.stock)",
            "remaining: \(report.remaining)",
            "sold:      \(report.sold) (inventory version \(report.version))",
            "starts:    \(report.startsAt)",
            "ends:      \(report.endsAt ?? "-")",
            "per IP:    \(report.perIPRate == 0 ? "no limit" : "\(report.perIPRate) requests/s")",
            "level:     \(report.minLevel == 0 ? "anyone" : "accounts of level \(report.minLevel) or above")",
            "captcha:   \(report.captcha.rawValue)",
            "pow:       \(report.powBits == 0 ? "none" : "\(report.powBits) bits")",
        ]
        if let segment = report.segment {
            lines.append(
                "segment:   remaining \(segment.remaining)\(segment.soldOut ? ", sold out" : ""), reconciled \(segment.lastReconciledAt)"
            )
        } else {
            lines.append("segment:   not configured (run `flashsale reconcile \(report.id)`)")
        }
        let counted = report.counters.filter { $0.value != 0 }.sorted { $0.key < $1.key }
        lines.append(
            "counters:  "
                + (counted.isEmpty ? "none yet" : counted.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
        return lines
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        String(self.reversed().drop { $0 == " " }.reversed())
    }
}
