import ArgumentParser
import NIOCore
import NIOPosix

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

    /// Makes NIO's event loops, the threads that read and write every HTTP connection, run Swift concurrency's
    /// jobs too, then parses the arguments and runs the subcommand.
    ///
    /// A request's handler then goes on on the thread that read its request, and its answer is written there,
    /// instead of being handed to Swift's own thread pool and back (issue 16: 3.35 -> 2.12 context switches and
    /// 8.75 -> 6.37 system calls per request); `GlobalExecutorOnEventLoops` says how, and why not NIO's own way.
    /// It must be done on the main thread before any task runs. Nothing may block in a task, as before: the
    /// threads are as many as the cores, as Swift's pool was.
    static func main() async {
        _ = GlobalExecutorOnEventLoops.install()
        await main(nil)
    }
}
