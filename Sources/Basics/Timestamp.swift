import Foundation

/// Milliseconds since the epoch as an ISO 8601 UTC timestamp with milliseconds. The
/// milliseconds are added as an integer: a Double of the epoch time cannot hold them exactly.
public func iso8601(_ milliseconds: Int64) -> String {
    let seconds = milliseconds.quotientAndRemainder(dividingBy: 1000)
    let (whole, fraction) = seconds.remainder < 0 ? (seconds.quotient - 1, seconds.remainder + 1000) : seconds
    let text = Date(timeIntervalSince1970: Double(whole)).formatted(.iso8601)
    let digits = String(fraction)
    return text.dropLast() + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
}
