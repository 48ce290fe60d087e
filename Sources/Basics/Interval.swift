/// Whether something last done at `lastMs` (nil: never) is due again at `nowMs`: an interval
/// has passed, or the last time lies in the future (the clock stepped back).
public func isDue(since lastMs: Int64?, nowMs: Int64, intervalMs: Int64) -> Bool {
    guard let lastMs else { return true }
    return lastMs <= nowMs - intervalMs || lastMs > nowMs
}
