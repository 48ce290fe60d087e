import Foundation

/// What a load test sends: `buyers` accounts against one sale of the host at `base`, from
/// `concurrency` connections, for at most `seconds`. A `botShare` of the accounts are bots,
/// each buying `botRounds` times in a row without waiting; the rest buy once.
public struct CrowdPlan: Sendable, Equatable {
    public var base: URL
    public var sale: String
    public var buyers: Int
    public var concurrency: Int
    public var seconds: Int
    public var botShare: Double
    public var botRounds: Int

    public init(
        base: URL, sale: String, buyers: Int, concurrency: Int, seconds: Int, botShare: Double = 0, botRounds: Int = 20
    ) {
        self.base = base
        self.sale = sale
        self.buyers = buyers
        self.concurrency = concurrency
        self.seconds = seconds
        self.botShare = botShare
        self.botRounds = botRounds
    }

    /// Why the plan cannot run, or nil.
    public var problem: String? {
        guard let scheme = base.scheme, ["http", "https"].contains(scheme), base.host != nil else {
            return "the host URL must be http:// or https:// with a host, not \(base.absoluteString)"
        }
        guard base.path.isEmpty || base.path == "/" else {
            return "the host URL must have no path (the functions' routes are absolute): \(base.absoluteString)"
        }
        guard sale.wholeMatch(of: /[a-z0-9][a-z0-9-]{0,63}/) != nil else {
            return "a sale id is lowercase letters, digits and dashes: \(sale)"
        }
        guard buyers >= 1 else { return "a crowd needs at least one buyer" }
        guard (1...1024).contains(concurrency) else { return "concurrency is 1 to 1024 connections" }
        guard concurrency <= buyers else { return "more connections (\(concurrency)) than buyers (\(buyers))" }
        guard seconds >= 1 else { return "the duration is at least 1 second" }
        guard (0...1).contains(botShare) else { return "the share of bots is 0 to 1" }
        guard botRounds >= 1 else { return "a bot buys at least once" }
        return nil
    }

    /// The users, in the order they are handed to the connections: `loadtest-<run>-000001`…,
    /// every `1 / botShare`-th of them a bot.
    public func users(run: String) -> [(user: String, isBot: Bool)] {
        let bots = Int((Double(buyers) * botShare).rounded())
        return (0..<buyers).map { index in
            // Bots spread evenly over the list, so every part of the run has its share.
            let isBot = bots > 0 && index * bots / buyers != (index + 1) * bots / buyers
            return (String(format: "loadtest-%@-%06d", run, index), isBot)
        }
    }
}
