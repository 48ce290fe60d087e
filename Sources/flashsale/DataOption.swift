import ArgumentParser
import Basics
import Foundation
import Hosting

/// `--data DIR`, shared by every subcommand that touches the data directory.
struct DataOption: ParsableArguments {
    @Option(name: .customLong("data"), help: "The data directory (default: $FLASHSALE_DATA, else ./var).")
    var path: String?

    var directory: DataDirectory {
        DataDirectory.resolve(option: path, environment: ProcessInfo.processInfo.environment)
    }
}

/// Prints `error` as one line on stderr and exits non-zero, without a usage dump.
func fail(_ error: any Error) -> ExitCode {
    standardError.write("flashsale: \(error)")
    return ExitCode(1)
}
