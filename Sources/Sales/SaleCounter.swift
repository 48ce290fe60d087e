/// The counters a gate keeps per sale (one 8-byte atomic each in the segment), in this order.
public enum SaleCounter: Int, CaseIterable, Sendable {
    case attempts, admissions, orders
    case rejectedNotStarted, rejectedSoldOut, rejectedEnded, rejectedAlreadyOrdered
    case rejectedInvalidToken, rejectedUnauthorized, rejectedBusy, rejectedRateLimited, rejectedCaptcha, rejectedOther
    /// Requests let through unguarded because the account or address table had no room.
    case unguardedTableFull
    case rejectedForbidden
    /// Of the `busy` refusals, those of a second request while the account's first runs.
    case rejectedAccountBusy
    /// Asked for a captcha or proof of work not sent (an honest buyer's first try, often);
    /// `rejectedCaptcha` counts the ones sent and refused.
    case rejectedCaptchaRequired
    /// Groups of orders committed in one transaction and one sync with this sale's orders in
    /// them: `orders` over this is the mean group.
    case groupCommits
}
