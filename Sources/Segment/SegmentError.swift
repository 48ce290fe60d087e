import Glibc

/// A failed system call on the segment file: the call, the file's path and errno.
public struct SegmentError: Error, Sendable, Equatable, CustomStringConvertible {
    public var call: String
    public var path: String
    public var errno: Int32

    public var description: String {
        "\(call)(\(path)) failed: \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// Runs a system call, retrying while it is interrupted (EINTR); throws with errno otherwise.
@discardableResult
func systemCall<T: BinaryInteger>(_ call: String, _ path: String, _ body: () -> T) throws(SegmentError) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        if errno != EINTR { throw SegmentError(call: call, path: path, errno: errno) }
    }
}
