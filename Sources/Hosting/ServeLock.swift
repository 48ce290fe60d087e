import Basics
import Foundation

/// An exclusive `flock` on `<data>/run/serve.lock`, held by `serve` and `demo` for as long as
/// they run: a second one on the same data directory is refused before it changes anything
/// (the demo starts its sale over, which must never happen under running functions).
public final class ServeLock {
    private let descriptor: Int32

    /// Takes the lock, or throws at once when another process holds it.
    public init(_ data: DataDirectory) throws {
        let path = data.sockets + "/serve.lock"
        descriptor = try systemCall("open", path) { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let error = errno
            close(descriptor)
            if error == EWOULDBLOCK {
                throw HostingError(
                    "data directory \(data.path) is already served by another `flashsale serve` or `demo`")
            }
            throw SystemCallError(call: "flock", subject: path, errno: error)
        }
    }

    deinit {
        close(descriptor)
    }
}
