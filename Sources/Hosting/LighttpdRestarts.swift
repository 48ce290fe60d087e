/// When lighttpd dies under `serve`: started again after a back-off that doubles from 0.1 s
/// (0.1, 0.2, 0.4, 0.8, 1.6 s), until it has exited more than ``maxExits`` times within
/// ``window`` seconds; then serve stops everything and exits with ``gaveUpStatus``, for its
/// supervisor (systemd's `Restart=always`, `flashsale config systemd`) to act on.
public struct LighttpdRestarts: Sendable {
    /// serve's exit status when lighttpd keeps dying: 69, EX_UNAVAILABLE of sysexits.h.
    public static let gaveUpStatus: Int32 = 69
    public static let maxExits = 5
    public static let window = 60.0
    static let firstDelay = 0.1

    private var exitTimes: [ContinuousClock.Instant] = []

    public init() {}

    /// How many exits fell within the window, the last one included.
    public var exits: Int { exitTimes.count }

    /// Records an exit at `time`: the seconds to wait before starting lighttpd again, or nil
    /// when it has exited more than ``maxExits`` times within ``window`` seconds.
    public mutating func delay(afterExitAt time: ContinuousClock.Instant) -> Double? {
        exitTimes = exitTimes.filter { $0.duration(to: time) < .milliseconds(Int(Self.window * 1000)) } + [time]
        guard exitTimes.count <= Self.maxExits else { return nil }
        return Self.firstDelay * Double(1 << (exitTimes.count - 1))
    }
}
