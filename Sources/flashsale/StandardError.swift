import FastCGI
import Glibc

/// The command's own lines (serve's restarts, a failure, the demo's link) on stderr, one
/// write(2) each: a stderr that cannot take them (a full disk, a closed pipe) sends them to
/// syslog rather than stopping the command, as `FileHandle.write` would.
let standardError = LogSink(log: STDERR_FILENO, logName: "the stderr of flashsale", host: nil, ident: "flashsale")
