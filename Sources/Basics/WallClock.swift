import Glibc

/// Wall-clock time in milliseconds since the epoch (CLOCK_REALTIME): the time sales start and
/// end by, which the page's countdown is synchronised to.
public func wallClockMilliseconds() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
}
