import ArgumentParser
import Backends
import Basics
import Hosting

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create the data directory with its keys, the database and the stock segment; safe to run again."
    )

    @OptionGroup var data: DataOption

    @Option(
        help: ArgumentHelp(
            "Where the sales and orders are kept: a postgres:// URL (or conninfo) of the PostgreSQL server the hosts of a sale share, or 'embedded' for this directory's SQLite database. Kept in backend.json; without it, the directory keeps what it had (embedded at first).",
            valueName: "url"))
    var store: String?

    @Option(
        help: ArgumentHelp(
            "Where the gate's shared tables (one request per account, spent challenges, address rates) are kept: a redis:// URL of the Redis server the hosts of a sale share, or 'embedded' for this directory's stock segment. Kept in backend.json like --store.",
            valueName: "url"))
    var gate: String?

    func run() throws {
        let directory = data.directory
        do {
            try directory.createKeys()
            if store?.isEmpty == true || gate?.isEmpty == true {
                throw ValidationError("--store and --gate want a URL, or 'embedded'")
            }
            let saved = try directory.backendSettings()
            var settings = saved
            if let store { settings.store = store == "embedded" ? nil : store }
            if let gate { settings.gate = gate == "embedded" ? nil : gate }
            if settings != saved {
                // Not under running functions, which would open one store or the other as
                // they are respawned; and only to servers that answer now.
                let lock = try ServeLock(directory)
                try StoreAddress(settings).checkReachable()
                try GateAddress(settings).checkReachable()
                try directory.saveBackendSettings(settings)
                withExtendedLifetime(lock) {}
            }
            try directory.initialize()
            // The store and the segment, whose pages are allocated now: a full disk fails here,
            // an unreachable server too.
            _ = try openDesk(data)
            if settings == saved { try GateAddress(settings).checkReachable() }
        } catch {
            throw fail(error)
        }
        print("flashsale: data directory ready at \(directory.path)")
    }
}
