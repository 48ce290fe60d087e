import Glibc

/// A failed system call: the call, what it was applied to and errno.
public struct SystemCallError: Error, Sendable, Equatable, CustomStringConvertible {
    public var call: String
    public var subject: String
    public var errno: Int32

    public init(call: String, subject: String, errno: Int32) {
        self.call = call
        self.subject = subject
        self.errno = errno
    }

    public var description: String {
        let what = subject.isEmpty ? call : "\(call)(\(subject))"
        return "\(what) failed: \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// Runs a system call, retrying while it is interrupted (EINTR); throws with errno otherwise.
@discardableResult
public func systemCall<T: BinaryInteger>(
    _ name: String, _ subject: String = "", _ body: () -> T
) throws(SystemCallError) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        if errno != EINTR { throw SystemCallError(call: name, subject: subject, errno: errno) }
    }
}

extension SystemCallError {
    /// True for a failure that may pass once space returns or the disk recovers: a full disk or
    /// quota, an I/O error, no memory, try again.
    public var isTransient: Bool {
        [ENOSPC, EDQUOT, EIO, ENOMEM, EAGAIN].contains(errno)
    }
}
