import Basics
import Glibc

extension SystemCallError {
    /// A libfcgi call that returned `code`, which is `-errno` when a system call under it
    /// failed (any other code reads as EINVAL).
    init(libfcgi call: String, returned code: Int32) {
        self.init(call: call, subject: "", errno: code < 0 ? -code : EINVAL)
    }
}
