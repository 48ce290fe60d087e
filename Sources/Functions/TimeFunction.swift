import Basics
import FastCGI

/// `GET /api/time` → `{"now": <server time in ms since the epoch>}`: the page measures its
/// clock offset against it, so it must never be cached.
public enum TimeFunction {
    public struct Body: Codable, Sendable {
        public var now: Int64
    }

    public static let function = Function(
        name: "time",
        routes: [
            Route("/api/time", methods: [.get]) { _ in
                Response.json(bytes: body(now: wallClockMilliseconds()))
            }
        ])

    /// The encoded `Body`. Every page polls this function, so it skips a JSONEncoder per
    /// request: an integer in a fixed object is valid JSON by construction, and the tests
    /// decode it with JSONDecoder.
    static func body(now: Int64) -> [UInt8] {
        Array(#"{"now":\#(now)}"#.utf8)
    }
}
