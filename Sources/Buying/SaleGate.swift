import FastCGI
import Segment

/// The decisions the segment answers alone: where a sale stands and whether its admission
/// window has room. Shared by precheck (which answers them) and token and order (which refuse).
enum SaleGate {
    static let notStarted = HTTPError.fixed(.notStarted, "the sale has not started; count down with /api/time")
    static let ended = HTTPError.fixed(.ended, "the sale has ended")
    static let soldOut = HTTPError.fixed(.soldOut, "the sale is sold out")
    static let alreadyOrdered = HTTPError.fixed(.alreadyOrdered, "you already ordered in this sale")
    /// The database stayed locked past its busy timeout: a moment's overload.
    static let databaseBusy = HTTPError.fixed(
        .busy, "the order book is busy; retry in a second", headers: [.retryAfter: "1"])
    /// The write-ahead log failed to sync: this process takes no more orders (`StoreError.syncFailed`).
    static let ordersStopped = HTTPError.fixed(
        .busy, "orders are stopped on this server until an operator checks the disk and restarts serve",
        headers: [.retryAfter: "1"])

    /// Why a sale cannot be bought at `nowMs` according to its slot, or nil when it is open.
    static func refusal(_ slot: SaleSlot, _ configuration: SaleSlot.Configuration, nowMs: Int64) -> HTTPError? {
        if nowMs < configuration.startMs { return notStarted }
        if nowMs >= configuration.endMs { return ended }
        if slot.isSoldOut { return whenEmpty(slot, configuration) }
        return nil
    }

    /// The refusal of a slot that reads sold out or empty: `sold_out` only while it holds the
    /// sale's `configuration`. Otherwise it was cleared under the process (another process
    /// re-initialised the segment and has not reconciled it from SQLite yet) or this process's
    /// mapping faulted into zeros: it says nothing about the stock, so 503 `busy`. One checksum
    /// read, and only on the way to a refusal.
    static func whenEmpty(_ slot: SaleSlot, _ configuration: SaleSlot.Configuration) -> HTTPError {
        slot.configuration() == configuration ? soldOut : BuyingContext.segmentFaulted
    }

    /// How many buyers one window admits: the multiple of the units left (saturating, so that a
    /// garbage `remaining` in a damaged segment cannot wrap to a negative limit).
    static func admissionLimit(_ slot: SaleSlot, settings: BuyingSettings) -> Int64 {
        let (limit, overflow) = max(0, slot.remaining).multipliedReportingOverflow(by: settings.admissionMultiple)
        return overflow ? .max : limit
    }

    /// Whether the admission window `window` (``AdmissionWindows``) is full.
    static func isBusy(_ slot: SaleSlot, window: Int64, settings: BuyingSettings) -> Bool {
        slot.admissions(inWindow: slotWindow(window)) >= admissionLimit(slot, settings: settings)
    }

    /// An admission window as the slot and the order token keep it: its low 32 bits.
    static func slotWindow(_ window: Int64) -> UInt32 {
        UInt32(truncatingIfNeeded: window)
    }

    /// Counts a refusal in the sale's slot: by its code, and a second request of a busy
    /// account also as such.
    static func count(_ error: HTTPError, in slot: SaleSlot) {
        slot.increment(counter(for: error.code))
        if error == AbuseChecks.accountBusy { slot.increment(.rejectedAccountBusy) }
    }

    /// The counter a refusal with `code` adds to.
    static func counter(for code: ErrorCode) -> SlotCounter {
        switch code {
        case .notStarted: .rejectedNotStarted
        case .soldOut: .rejectedSoldOut
        case .ended: .rejectedEnded
        case .alreadyOrdered: .rejectedAlreadyOrdered
        case .invalidToken, .tokenExpired: .rejectedInvalidToken
        case .unauthorized: .rejectedUnauthorized
        case .busy: .rejectedBusy
        case .rateLimited: .rejectedRateLimited
        case .captchaRequired: .rejectedCaptchaRequired
        case .captchaFailed: .rejectedCaptcha
        case .forbidden: .rejectedForbidden
        default: .rejectedOther
        }
    }
}
