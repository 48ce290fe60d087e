import Sales

/// The checks that make a script lose, answered from the gate before a request takes stock or
/// reads the store: a rate per client address and sale, and one active request per account.
/// When a table has no room the request goes ahead, counted, rather than lock anyone out.
extension SaleRequest {
    /// What a client address's rate is counted for: buying (token and order), or the captcha
    /// (challenges and answers), so that solving one does not eat the rate to buy.
    enum RateScope: String {
        case buying, captcha
    }

    /// The network around an address (its IPv4 /24, its IPv6 /48) may send this many times the
    /// sale's per-address rate: many buyers share a /24 behind carrier NAT or a campus network,
    /// so the network's allowance is well above one subscriber's, while whoever holds a /48
    /// (65,536 /64s) or many addresses of one /24 gets that allowance, not one per address.
    static let networkRateMultiple = 16

    /// Refuses with 429 `rate_limited` and `Retry-After` when the client address is over the
    /// sale's per-address rate, or its network over ``networkRateMultiple`` times that (at most
    /// what the gate's rate table counts). A request the address's own rate refuses does not count against
    /// its network, so one hammering client does not spend its neighbours' allowance.
    func limitRate(scope: RateScope = .buying) throws(Refusal) {
        guard sale.perIPRate > 0 else { return }
        let buckets = ClientAddress.buckets(of: request, trusting: context.settings.trustedProxies)
        let key = context.tableKeys.key("rate", scope.rawValue, sale.id, buckets.subscriber)
        try count(key, perSecond: Int(sale.perIPRate)) { seconds in
            "too many requests from this address for this sale; retry in \(seconds) s"
        }
        guard let network = buckets.network else { return }
        let networkKey = context.tableKeys.key("rate", scope.rawValue, sale.id, network)
        let networkRate = min(Int(sale.perIPRate) * Self.networkRateMultiple, session.gate.rates.maxPerSecond)
        try count(networkKey, perSecond: networkRate) { seconds in
            "too many requests from this address's network (\(network)) for this sale; retry in \(seconds) s"
        }
    }

    /// Challenges one account may ask for per sale, per second and at once: enough for a person
    /// who asks for another picture, too few to stock up on challenges from many addresses.
    static let challengesPerSecond = 2

    /// Refuses with 429 `rate_limited` when `user` asks for challenges of the sale faster than
    /// ``challengesPerSecond``, whatever the address and whether or not the sale has a rate.
    func limitChallenges(of user: String) throws(Refusal) {
        let key = context.tableKeys.key("rate", "challenge", sale.id, user)
        try count(key, perSecond: Self.challengesPerSecond) { seconds in
            "this account asked for too many challenges; retry in \(seconds) s"
        }
    }

    /// Counts one request of `key` in the gate's rate table; over the rate, 429 `rate_limited`
    /// with `Retry-After` and `message(seconds)`. A full table lets it through, counted.
    private func count(_ key: UInt64, perSecond: Int, message: (Int64) -> String) throws(Refusal) {
        let verdict = session.gate.rates.admit(
            key, nowMs: context.clock(), perSecond: perSecond, maxBlockMs: context.settings.rateBlockMs)
        switch verdict {
        case .allowed:
            return
        case .tableFull:
            stock.increment(.unguardedTableFull)
        case .unavailable:
            throw refuse(.gateUnreachable)
        case .limited(let retryAfterMs):
            let seconds = (retryAfterMs + 999) / 1000
            throw refuse(Refusal(.rateLimited, message(seconds), retryAfterSeconds: seconds))
        }
    }

    /// Runs `body` holding `user`'s lease; `busy` at once while another request of the account
    /// holds it. The lease is given back when `body` returns or throws.
    func oneAtATime<T>(_ user: String, _ body: () throws -> T) throws -> T {
        let leases = session.gate.accounts
        let key = context.tableKeys.key("account", user)
        switch leases.acquire(key, nowMs: context.clock(), leaseMs: context.settings.accountLeaseMs) {
        case .busy:
            throw refuse(.accountBusy)
        case .contended:
            throw refuse(.contended)
        case .unavailable:
            throw refuse(.gateUnreachable)
        case .tableFull:
            stock.increment(.unguardedTableFull)
            return try body()
        case .acquired(let lease):
            defer { leases.release(lease) }
            return try body()
        }
    }
}
