/// One answer of a load test, as a wrk thread wrote it.
public struct CrowdRecord: Sendable, Equatable {
    public enum Step: String, Sendable, Codable, CaseIterable {
        case token, precheck, order
    }

    public var isBot: Bool
    public var step: Step
    public var status: Int
    /// The error code, a precheck's reason, or `ok`.
    public var code: String
    public var startMicros: Int64
    public var latencyMicros: Int64

    public init(isBot: Bool, step: Step, status: Int, code: String, startMicros: Int64, latencyMicros: Int64) {
        self.isBot = isBot
        self.step = step
        self.status = status
        self.code = code
        self.startMicros = startMicros
        self.latencyMicros = latencyMicros
    }

    /// Parses `<h|b> <step> <status> <code> <start µs> <latency µs>`; nil for any other line.
    public init?(line: Substring) {
        let fields = line.split(separator: " ")
        guard fields.count == 6, fields[0] == "h" || fields[0] == "b", let step = Step(rawValue: String(fields[1])),
            let status = Int(fields[2]), let start = Int64(fields[4]), let latency = Int64(fields[5])
        else { return nil }
        self.init(
            isBot: fields[0] == "b", step: step, status: status, code: String(fields[3]), startMicros: start,
            latencyMicros: latency)
    }

    /// An order taken.
    public var isOrder: Bool { step == .order && status == 201 }
}
