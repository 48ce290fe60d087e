import Foundation

/// The `flashsale` command run as an operator runs it, to completion (bounded).
public enum FlashsaleCommand {
    public struct Result: Sendable {
        public var status: Int32?
        public var stdout: String
        public var stderr: String
    }

    /// Runs `flashsale ARGUMENTS` (a shell-quoted argument string) with `environment` added.
    public static func run(_ arguments: String, environment: [String: String] = [:]) throws -> Result {
        let output = try TemporaryDirectory()
        defer { output.remove() }
        let status = try ChildProcessRunner.run(
            "exec \"\(Paths.executable("flashsale"))\" \(arguments) >\"\(output.path)/out\" 2>\"\(output.path)/err\"",
            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
        let read = { (name: String) in (try? String(contentsOfFile: "\(output.path)/\(name)", encoding: .utf8)) ?? "" }
        return Result(status: status, stdout: read("out"), stderr: read("err"))
    }
}
