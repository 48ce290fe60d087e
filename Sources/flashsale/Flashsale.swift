import ArgumentParser

@main
struct Flashsale: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Run a flash sale: static page, FastCGI functions behind lighttpd, SQLite and a shared stock segment.",
        subcommands: [Init.self, Serve.self]
    )
}
