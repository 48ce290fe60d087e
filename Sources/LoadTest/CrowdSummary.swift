/// What a load test saw: answers by step and outcome, latencies, orders and how fast the
/// stock went. Encodes as the `--json` file.
public struct CrowdSummary: Sendable, Codable, Equatable {
    public struct StepFigures: Sendable, Codable, Equatable {
        public var answers: Int
        public var perSecond: Double
        public var p50Ms: Double
        public var p99Ms: Double
        /// Answers by outcome: `ok`, an error code or a precheck's reason.
        public var outcomes: [String: Int]
    }

    /// From the first request sent to the last answer.
    public var seconds: Double
    public var answers: Int
    public var answersPerSecond: Double
    public var steps: [String: StepFigures]
    public var orders: Int
    public var botOrders: Int
    /// The buyers of the plan, and how many of them were bots.
    public var buyers: Int
    public var bots: Int
    /// From the first request to the answer of the last order taken; nil without orders.
    public var lastOrderSeconds: Double?
    /// Orders over `lastOrderSeconds`.
    public var ordersPerSecond: Double?

    public init(records: [CrowdRecord], buyers: Int, bots: Int) {
        let start = records.map(\.startMicros).min() ?? 0
        let end = records.map { $0.startMicros + $0.latencyMicros }.max() ?? start
        seconds = Double(end - start) / 1_000_000
        answers = records.count
        answersPerSecond = seconds > 0 ? Double(answers) / seconds : 0
        var steps: [String: StepFigures] = [:]
        for step in CrowdRecord.Step.allCases {
            let mine = records.filter { $0.step == step }
            guard !mine.isEmpty else { continue }
            let latencies = mine.map(\.latencyMicros).sorted()
            steps[step.rawValue] = StepFigures(
                answers: mine.count, perSecond: seconds > 0 ? Double(mine.count) / seconds : 0,
                p50Ms: Self.percentile(latencies, 50), p99Ms: Self.percentile(latencies, 99),
                outcomes: mine.reduce(into: [:]) { $0[$1.code, default: 0] += 1 })
        }
        self.steps = steps
        let taken = records.filter(\.isOrder)
        orders = taken.count
        botOrders = taken.filter(\.isBot).count
        self.buyers = buyers
        self.bots = bots
        let lastOrder = taken.map { $0.startMicros + $0.latencyMicros }.max()
        lastOrderSeconds = lastOrder.map { Double($0 - start) / 1_000_000 }
        ordersPerSecond = lastOrderSeconds.flatMap { $0 > 0 ? Double(orders) / $0 : nil }
    }

    /// The nearest-rank percentile of sorted `micros`, in milliseconds.
    static func percentile(_ micros: [Int64], _ percent: Int) -> Double {
        guard !micros.isEmpty else { return 0 }
        let rank = max(1, (micros.count * percent + 99) / 100)
        return Double(micros[rank - 1]) / 1000
    }
}
