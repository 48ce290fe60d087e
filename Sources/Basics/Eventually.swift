import Foundation

/// Polls `condition` every 10 ms until it holds or `seconds` pass; true if it held. The
/// one way the host and its tests wait: on a condition, with a bound.
public func eventually(within seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(10_000)
    }
    return try condition()
}
