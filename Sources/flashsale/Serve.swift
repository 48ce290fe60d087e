import ArgumentParser
import Backends
import Basics
import Foundation
import Hosting

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Publish the storefront, generate the lighttpd configuration and serve in the foreground; Ctrl-C stops everything.",
        discussion: """
            lighttpd is started again when it dies, after 0.1 s doubling; when it exits more than \
            \(LighttpdRestarts.maxExits) times within \(Int(LighttpdRestarts.window)) s, serve stops everything and \
            exits \(LighttpdRestarts.gaveUpStatus), for its supervisor to restart it (`flashsale config systemd`). \
            lighttpd and the functions never outlive serve, and serve first stops what one that died left behind.
            """
    )

    @OptionGroup var data: DataOption
    @OptionGroup var listen: ListenOptions
    @OptionGroup var root: RootOption

    func run() throws {
        do {
            try data.directory.checkUsable()
            let manifests = try root.manifests()
            try serve(data: data.directory, listen: listen, root: root, manifests: manifests)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw fail(error)
        }
    }
}

/// Where to listen and which executables to run: shared by `serve` and `demo`.
struct ListenOptions: ParsableArguments {
    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on.")
    var port = 8080

    @Option(help: "The folder holding the built function executables (default: the folder of this executable).")
    var bin: String?

    @OptionGroup var connections: ConnectionOptions

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port \(port) is not a TCP port (1-65535)") }
        guard (try? Backend("\(ConfigString.bracketed(host)):\(port)")) != nil else {
            throw ValidationError("--host \(host) is not an IP address (IPv6 without brackets) or a host name")
        }
    }

    /// The deployment these options describe, serving the site published in `data`.
    func deployment(data: DataDirectory, manifests: [Manifest]) throws -> Deployment {
        Deployment(
            data: data, staticDirectory: data.site, binDirectory: try bin.map(absolutePath) ?? executableDirectory(),
            host: host, port: port, manifests: manifests, connections: connections.limits)
    }
}

/// Takes the data directory's serve lock and checks what an operator could have got wrong,
/// then runs `prepare`, publishes the storefront for every sale and runs lighttpd with
/// `manifests` until it exits or a stop signal arrives.
func serve(
    data: DataDirectory, listen: ListenOptions, root: RootOption, manifests: [Manifest],
    prepare: () throws -> Void = {}
) throws {
    let lock = try ServeLock(data)
    let environment = ProcessInfo.processInfo.environment
    let config = LighttpdConfig(
        deployment: try listen.deployment(data: data, manifests: manifests), template: root.lighttpdTemplate)
    let server = Server(config: config, lighttpd: try Server.findLighttpd(environment: environment))
    let status = try withExtendedLifetime(lock) {
        try server.run(
            beforeStart: {
                try prepare()
                try data.publishSite(try root.storefront(), sales: try AnySaleStore(opening: data).sales())
            },
            log: { line in standardError.write(line, priority: LOG_NOTICE) })
    }
    if status != 0 { throw ExitCode(status) }
}
