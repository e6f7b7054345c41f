import ArgumentParser
import Foundation
import Postgres
import Primitives
import WeighinService

/// The database of an admin command, and the services over it.
struct AdminDatabase: ParsableArguments {
    @Option(help: "PostgreSQL URL. [env: DATABASE_URL]")
    var databaseURL: String?

    /// Runs `body` with the service layer over a small pool, then closes it.
    func withServices<T>(_ body: (WeighinServices) async throws -> T) async throws -> T {
        guard let url = databaseURL ?? Environment.string("DATABASE_URL") else {
            throw ValidationError("set DATABASE_URL or pass --database-url")
        }
        let pool = PostgresPool(configuration: .init(connection: try PostgresConfiguration(conninfo: url), size: 2))
        do {
            let value = try await body(try await WeighinServices(pool: pool, configuration: .init(hashingThreads: 1)))
            await pool.closeAndWait()
            return value
        } catch {
            await pool.closeAndWait()
            throw error
        }
    }
}

/// `weighin users list|show|delete`.
struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users", abstract: "List, show and delete accounts.", subcommands: [List.self, Show.self, Delete.self])

    static func describe(_ account: AccountSummary) -> String {
        "\(account.user.email)  id=\(account.user.id.lowercasedString)  name=\(account.user.name)  "
            + "unit=\(account.user.weightUnit.rawValue)  entries=\(account.entries)  tokens=\(account.activeTokens)"
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List accounts by email, a page at a time.")
        @OptionGroup var database: AdminDatabase
        @Option(help: "Accounts per page.") var limit = 50
        @Option(help: "Start after this email (the last one of the previous page).") var after: String?

        func run() async throws {
            let accounts = try await database.withServices { try await $0.admin.listAccounts(after: after, limit: limit) }
            accounts.forEach { print(UsersCommand.describe($0)) }
            if accounts.count == limit, let last = accounts.last {
                print("next page: weighin users list --after '\(last.user.email)'")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one account.")
        @OptionGroup var database: AdminDatabase
        @Argument(help: "The account's email.") var email: String

        func run() async throws {
            guard let account = try await database.withServices({ try await $0.admin.account(email: email) }) else {
                throw ValidationError("no account has the email \(email)")
            }
            print(UsersCommand.describe(account))
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase an account and all its data (through the database's ON DELETE CASCADE).")
        @OptionGroup var database: AdminDatabase
        @Argument(help: "The account's email.") var email: String
        @Flag(help: "Do not ask for confirmation.") var yes = false

        func run() async throws {
            try await database.withServices { services in
                guard let account = try await services.admin.account(email: email) else {
                    throw ValidationError("no account has the email \(email)")
                }
                if !yes {
                    print("Delete \(account.user.email) and its \(account.entries) entries? Type the email to confirm: ",
                          terminator: "")
                    guard readLine()?.trimmingCharacters(in: .whitespaces).lowercased() == account.user.email else {
                        print("not deleted")
                        throw ExitCode(1)
                    }
                }
                guard try await services.admin.deleteAccount(email: email) else {
                    throw ValidationError("no account has the email \(email)")
                }
                print("deleted \(account.user.email) with \(account.entries) entries")
            }
        }
    }
}

/// `weighin tokens revoke EMAIL`.
struct TokensCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens", abstract: "Revoke tokens.", subcommands: [Revoke.self])

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke every token of an account (on every instance at once).")
        @OptionGroup var database: AdminDatabase
        @Argument(help: "The account's email.") var email: String

        func run() async throws {
            guard let count = try await database.withServices({ try await $0.admin.revokeTokens(email: email) }) else {
                throw ValidationError("no account has the email \(email)")
            }
            print("revoked \(count) token(s) of \(email)")
        }
    }
}
