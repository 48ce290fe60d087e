import ArgumentParser
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

    func run() throws {
        let directory = data.directory
        do {
            try directory.createKeys()
            if let store {
                try directory.saveBackendSettings(BackendSettings(store: store == "embedded" ? nil : store))
            }
            try directory.initialize()
            // The store and the segment, whose pages are allocated now: a full disk fails here,
            // an unreachable server too.
            _ = try openDesk(data)
        } catch {
            throw fail(error)
        }
        print("flashsale: data directory ready at \(directory.path)")
    }
}
