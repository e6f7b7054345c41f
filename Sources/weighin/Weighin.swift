import ArgumentParser

/// The `weighin` command: parses arguments and hands each subcommand to the library that does the work.
@main
struct Weighin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weighin",
        abstract: "A multi-user weight-tracking API on PostgreSQL.",
        subcommands: [
            ServeCommand.self, MigrateCommand.self, LoadTestCommand.self, UsersCommand.self, TokensCommand.self,
            OpenAPICommand.self,
        ])
}
