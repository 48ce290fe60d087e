import Glibc

/// Milliseconds of CLOCK_MONOTONIC: for deadlines and pauses that a change of the wall clock
/// cannot move.
public func monotonicMilliseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1_000 + Int64(now.tv_nsec) / 1_000_000
}
