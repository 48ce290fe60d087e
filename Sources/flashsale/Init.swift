import ArgumentParser
import Hosting

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create the data directory with its keys, the database and the stock segment; safe to run again."
    )

    @OptionGroup var data: DataOption

    func run() throws {
        let directory = data.directory
        do {
            try directory.initialize()
            // The database and the segment, whose pages are allocated now: a full disk fails here.
            _ = try openDesk(data)
        } catch {
            throw fail(error)
        }
        print("flashsale: data directory ready at \(directory.path)")
    }
}
