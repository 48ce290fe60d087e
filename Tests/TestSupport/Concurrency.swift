import Foundation

/// Runs `body(i)` for i in 0..<count on that many threads, released together once all have
/// started; true when all finished within `seconds`.
public func onThreads(_ count: Int, within seconds: Double = 60, _ body: @escaping @Sendable (Int) -> Void) -> Bool {
    let started = DispatchGroup()
    let gate = DispatchSemaphore(value: 0)
    let finished = DispatchGroup()
    for index in 0..<count {
        started.enter()
        finished.enter()
        Thread {
            started.leave()
            gate.wait()
            body(index)
            finished.leave()
        }.start()
    }
    _ = started.wait(timeout: .now() + 10)
    for _ in 0..<count { gate.signal() }
    return finished.wait(timeout: .now() + seconds) == .success
}

/// A thread-safe total for tests that count across threads.
public final class Tally: Sendable {
    private let lock = NSLock()
    // nonisolated(unsafe): only touched while `lock` is held.
    private nonisolated(unsafe) var total = 0

    public init() {}

    public func add(_ amount: Int) {
        lock.withLock { total += amount }
    }

    public var value: Int { lock.withLock { total } }
}
