import FastCGI
import Glibc

/// `GET /api/time` → `{"now": <server time in ms since the epoch>}`: the page measures its
/// clock offset against it, so it must never be cached.
public enum TimeFunction {
    public struct Body: Codable, Sendable {
        public var now: Int64
    }

    public static let function = Function(
        name: "time",
        routes: [
            Route("/api/time", methods: [.get]) { _ in try Response.json(Body(now: nowMilliseconds())) }
        ])

    /// Wall-clock time in milliseconds since the epoch.
    public static func nowMilliseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}
