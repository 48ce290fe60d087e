import ArgumentParser
import Foundation
import Hosting

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate the lighttpd configuration and serve in the foreground; Ctrl-C stops everything."
    )

    @OptionGroup var data: DataOption

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on.")
    var port = 8080

    @Option(
        help: "The project folder holding functions/ and lighttpd/ (default: $FLASHSALE_ROOT, else the current folder)."
    )
    var root: String?

    @Option(help: "The folder holding the built function executables (default: the folder of this executable).")
    var bin: String?

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        do {
            let root = absolutePath(root ?? environment["FLASHSALE_ROOT"] ?? ".")
            let config = LighttpdConfig(
                data: data.directory,
                template: root + "/lighttpd/lighttpd.conf",
                staticDirectory: root + "/lighttpd/static",
                binDirectory: try bin.map(absolutePath) ?? executableDirectory(),
                host: host,
                port: port,
                manifests: try Manifest.loadAll(from: root + "/functions")
            )
            let server = Server(config: config, lighttpd: try Server.findLighttpd(environment: environment))
            let status = try server.run { line in
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
            if status != 0 { throw ExitCode(status) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw fail(error)
        }
    }
}
