import FastCGI
import Segment

/// The decisions the segment answers alone: where a sale stands and whether its admission
/// window has room. Shared by precheck (which answers them) and token and order (which refuse).
enum SaleGate {
    /// Why a sale cannot be bought at `nowMs` according to its slot, or nil when it is open.
    static func refusal(_ slot: SaleSlot, _ configuration: SaleSlot.Configuration, nowMs: Int64) -> ErrorCode? {
        if nowMs < configuration.startMs { return .notStarted }
        if nowMs >= configuration.endMs { return .ended }
        if slot.isSoldOut { return .soldOut }
        return nil
    }

    /// The admission window `nowMs` falls in: one token lifetime long.
    static func window(nowMs: Int64, settings: BuyingSettings) -> UInt32 {
        UInt32(truncatingIfNeeded: nowMs / settings.tokenLifetimeMs)
    }

    /// How many buyers one window admits: the multiple of the units left.
    static func admissionLimit(_ slot: SaleSlot, settings: BuyingSettings) -> Int64 {
        slot.remaining.multipliedReportingOverflow(by: settings.admissionMultiple).partialValue
    }

    /// Whether the current window is full.
    static func isBusy(_ slot: SaleSlot, nowMs: Int64, settings: BuyingSettings) -> Bool {
        slot.admissions(inWindow: window(nowMs: nowMs, settings: settings)) >= admissionLimit(slot, settings: settings)
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
        case .captchaRequired, .captchaFailed: .rejectedCaptcha
        default: .rejectedOther
        }
    }

    /// The refusal answered for `code` at this gate.
    static func error(_ code: ErrorCode) -> HTTPError {
        switch code {
        case .notStarted: HTTPError(.notStarted, "the sale has not started; count down with /api/time")
        case .ended: HTTPError(.ended, "the sale has ended")
        case .soldOut: HTTPError(.soldOut, "the sale is sold out")
        default: HTTPError(code, code.rawValue)
        }
    }
}
