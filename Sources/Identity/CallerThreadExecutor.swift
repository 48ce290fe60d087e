import Dispatch
import Synchronization

/// Runs `operation` to completion and returns what it returns, blocking the calling thread.
///
/// Functions are synchronous (one request at a time per process) while jwt-kit's key collection
/// is an actor. The task runs on a ``CallerThreadExecutor``, so every job it makes (the actor's
/// too: default actors follow the task's executor preference) runs on the blocked thread itself.
/// A plain `Task` plus a semaphore would instead need a free thread of the shared pool, and
/// deadlocks when every pool thread is a caller waiting (as parallel tests on two cores are).
/// Safe because the work only computes (HMAC and JSON, no I/O) and nothing else waits on this
/// thread; one call at a time process-wide, so the actor is never left with work queued on the
/// executor of a caller that has returned. Not for use from inside `operation`.
func runBlocking<T: Sendable, E: Error>(_ operation: @escaping @Sendable () async throws(E) -> T) throws(E) -> T {
    try blockingCalls.withLock { _ throws(E) in
        let executor = CallerThreadExecutor()
        let outcome = Outcome<T, E>()
        Task(executorPreference: executor) {
            do throws(E) {
                outcome.result = .success(try await operation())
            } catch {
                outcome.result = .failure(error)
            }
            executor.finish()
        }
        executor.runUntilFinished()
        // runUntilFinished returns only after the task's last job, which set the result.
        return try outcome.result!.get()
    }
}

/// Serialises ``runBlocking(_:)`` calls; uncontended in a function process.
private let blockingCalls = Mutex(())

/// Where the task leaves its result. `@unchecked Sendable`: written by the task's last job and
/// read after `runUntilFinished` returns, both on the calling thread.
private final class Outcome<T, E: Error>: @unchecked Sendable {
    var result: Result<T, E>?
}

/// A task executor whose jobs run on the thread that calls ``runUntilFinished()``.
final class CallerThreadExecutor: TaskExecutor, Sendable {
    private struct State {
        var jobs: [UnownedJob] = []
        var finished = false
    }

    private let state = Mutex(State())
    /// Counts jobs and the finish signal, so the runner sleeps only while there is nothing to do.
    private let wakeups = DispatchSemaphore(value: 0)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        state.withLock { $0.jobs.append(job) }
        wakeups.signal()
    }

    /// Called by the task as its last step: the runner returns once the queue is empty.
    func finish() {
        state.withLock { $0.finished = true }
        wakeups.signal()
    }

    /// Runs jobs as they arrive until ``finish()`` has been called and no job is left.
    func runUntilFinished() {
        while true {
            wakeups.wait()
            let next = state.withLock { state -> (job: UnownedJob?, done: Bool) in
                state.jobs.isEmpty ? (nil, state.finished) : (state.jobs.removeFirst(), false)
            }
            if let job = next.job {
                job.runSynchronously(on: asUnownedTaskExecutor())
            } else if next.done {
                return
            }
        }
    }
}
