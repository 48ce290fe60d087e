import Glibc

/// A libfcgi or system call that failed, with the call's name and the code it returned
/// (libfcgi returns `-errno` for system errors).
public struct FastCGIError: Error, Sendable, CustomStringConvertible {
    public var call: String
    public var code: Int32

    public init(call: String, code: Int32) {
        self.call = call
        self.code = code
    }

    public var description: String {
        code < 0
            ? "\(call) failed: \(String(cString: strerror(-code))) (errno \(-code))" : "\(call) failed with \(code)"
    }
}
