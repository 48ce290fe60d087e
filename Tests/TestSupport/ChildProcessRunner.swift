import Foundation
import Hosting

/// Runs a shell command line to completion (bounded) and returns its exit status.
public enum ChildProcessRunner {
    public static func run(_ commandLine: String, environment: [String: String]? = nil, within seconds: Double = 30)
        throws -> Int32?
    {
        let process = try ChildProcess(executable: "/bin/sh", arguments: ["-c", commandLine], environment: environment)
        guard let status = process.waitForExit(within: seconds) else {
            process.signalGroup(SIGKILL)
            process.reap()
            return nil
        }
        return status
    }
}
