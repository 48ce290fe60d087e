import Hosting
import Testing

/// serve's back-off for a lighttpd that dies: doubling delays, then giving up when it keeps
/// dying within the window, and patience again once the window has passed.
@Suite struct LighttpdRestartsTests {
    @Test func delaysDoubleUntilTooManyExitsWithinAMinute() {
        var restarts = LighttpdRestarts()
        let start = ContinuousClock.now
        let delays = (0...LighttpdRestarts.maxExits).map { restarts.delay(afterExitAt: start + .seconds($0)) }
        #expect(delays == [0.1, 0.2, 0.4, 0.8, 1.6, nil])
        #expect(restarts.exits == 6)
    }

    @Test func exitsOlderThanTheWindowAreForgotten() {
        var restarts = LighttpdRestarts()
        let start = ContinuousClock.now
        for second in 0..<LighttpdRestarts.maxExits {
            _ = restarts.delay(afterExitAt: start + .seconds(second))
        }
        #expect(restarts.delay(afterExitAt: start + .seconds(61)) == 0.8)
        #expect(restarts.delay(afterExitAt: start + .seconds(200)) == 0.1)
    }
}
