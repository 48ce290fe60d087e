import Foundation

/// A serving thread beside the main one: runs `body` once and lets its starter wait for its
/// end. A thread whose `body` throws ends the process as the main thread's failure would:
/// `failed` logs why and exits.
final class ServingThread: Sendable {
    private let ended = DispatchSemaphore(value: 0)

    init(_ body: @escaping @Sendable () throws -> Void, failed: @escaping @Sendable (any Error) -> Never) {
        let thread = Thread { [ended] in
            do {
                try body()
            } catch {
                failed(error)
            }
            ended.signal()
        }
        thread.start()
    }

    /// Waits until the thread has run `body`.
    func join() {
        ended.wait()
    }
}
