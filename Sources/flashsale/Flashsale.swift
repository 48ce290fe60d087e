import ArgumentParser

@main
struct Flashsale: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a flash sale: a static page and small FastCGI functions behind lighttpd.",
        subcommands: [
            Init.self, Serve.self, Demo.self, SaleCommand.self, Status.self, Orders.self, Reconcile.self, Export.self,
            UserToken.self, LoadTestCommand.self, Config.self,
        ]
    )
}
