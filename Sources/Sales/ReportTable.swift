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
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { row in
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
