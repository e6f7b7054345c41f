import CLibPQ
import Foundation
import Primitives

/// How to reach a PostgreSQL server and how each connection behaves.
public struct PostgresConfiguration: Sendable {
    /// How statements are prepared on a connection.
    public enum PreparedStatements: String, Sendable, CaseIterable {
        /// Each distinct statement is prepared once per connection under a name and reused (fastest).
        case named
        /// Every statement uses the unnamed statement: works through PgBouncer's transaction pooling.
        case unnamed
    }

    /// A libpq URL (`postgres://user:pass@host:port/db?sslmode=require`, unix sockets as `?host=/run/postgresql`)
    /// or a `key=value` conninfo string; TLS is libpq's own, through `sslmode`.
    public var conninfo: String
    /// `application_name`, shown in `pg_stat_activity`.
    public var applicationName: String
    /// The server-side `statement_timeout` for every statement on the connection; nil keeps the server's setting.
    public var statementTimeout: Duration?
    /// How long establishing a connection may take.
    public var connectTimeout: Duration
    /// How long the client waits for any one statement before it treats the connection as dead and drops it,
    /// so a hung server or network never hangs a caller. nil waits forever.
    public var clientTimeout: Duration?
    /// Named (cached) or unnamed prepared statements.
    public var preparedStatements: PreparedStatements
    /// Called with every statement just before it is sent (its name and text, never its values): for tracing, and
    /// for tests that check which statements the service runs.
    public var onStatement: (@Sendable (SQL) -> Void)?

    /// Checks `conninfo` with libpq's own parser, so a typo fails at start with libpq's message.
    public init(
        conninfo: String,
        applicationName: String = "weighin",
        statementTimeout: Duration? = nil,
        connectTimeout: Duration = .seconds(5),
        clientTimeout: Duration? = nil,
        preparedStatements: PreparedStatements = .named
    ) throws(PostgresError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errorMessage) else {
            let message = errorMessage.map { String(cString: $0) } ?? "out of memory"
            if let errorMessage { PQfreemem(errorMessage) }
            throw PostgresError(
                code: .unableToConnect,
                message: "invalid database URL: \(message.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        PQconninfoFree(options)
        self.conninfo = conninfo
        self.applicationName = applicationName
        self.statementTimeout = statementTimeout
        self.connectTimeout = connectTimeout
        self.clientTimeout = clientTimeout ?? statementTimeout.map { $0 + .seconds(10) }
        self.preparedStatements = preparedStatements
    }

    /// `user@host:port/dbname` without the password, for logs and messages.
    public var redactedDescription: String {
        guard let options = PQconninfoParse(conninfo, nil) else { return "(invalid database URL)" }
        defer { PQconninfoFree(options) }
        var values: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { values[String(cString: keyword)] = String(cString: value) }
            option += 1
        }
        let user = values["user"].map { $0 + "@" } ?? ""
        let host = values["host"] ?? values["hostaddr"] ?? "localhost"
        let port = values["port"].map { ":" + $0 } ?? ""
        return user + host + port + "/" + (values["dbname"] ?? "")
    }

    /// Keyword/value pairs for `PQconnectdbParams` with `expand_dbname`: the URL first, then settings that
    /// override it.
    var connectParameters: [(String, String)] {
        var parameters: [(String, String)] = [
            ("dbname", conninfo),
            ("application_name", applicationName),
            ("connect_timeout", String(max(1, connectTimeout.wholeSeconds))),
        ]
        if let statementTimeout {
            parameters.append(("options", "-c statement_timeout=\(statementTimeout.milliseconds)"))
        }
        return parameters
    }
}
