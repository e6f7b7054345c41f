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
    /// or a `key=value` conninfo string; TLS is libpq's own, through `sslmode`. It may name several servers
    /// (`postgres://h1:5432,h2:5432/db?target_session_attrs=read-write`): libpq tries them in order and keeps the
    /// first that is up and, with `target_session_attrs`, of the kind asked for (how weighin follows a failover).
    public var conninfo: String
    /// `application_name`, shown in `pg_stat_activity`.
    public var applicationName: String
    /// The server-side `statement_timeout` for every statement on the connection; nil keeps the server's setting.
    public var statementTimeout: Duration?
    /// How long establishing a connection to one server may take (libpq's `connect_timeout`, at least 2 s), when
    /// `conninfo` sets no `connect_timeout` of its own: a server that accepts but never answers (a hung old
    /// primary) costs this long before libpq tries the next host, never forever.
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

    /// `user@host:port/dbname` without the password, for logs and messages: every server of a multi-host URL
    /// (`user@h1:p1,h2:p2/dbname`), and its `target_session_attrs` when set.
    public var redactedDescription: String {
        guard let values = Self.options(of: conninfo) else { return "(invalid database URL)" }
        let user = values["user"].map { $0 + "@" } ?? ""
        let hosts = (values["host"] ?? values["hostaddr"] ?? "localhost").split(separator: ",", omittingEmptySubsequences: false)
        let ports = (values["port"] ?? "").split(separator: ",", omittingEmptySubsequences: false)
        // libpq: one port for every host, or one port per host (an empty one is the default port).
        let servers = hosts.enumerated().map { index, host in
            let port = ports.count == hosts.count ? ports[index] : ports.first ?? ""
            return (host.isEmpty ? "localhost" : String(host)) + (port.isEmpty ? "" : ":" + port)
        }
        let attributes = values["target_session_attrs"].map { "?target_session_attrs=" + $0 } ?? ""
        return user + servers.joined(separator: ",") + "/" + (values["dbname"] ?? "") + attributes
    }

    /// Keyword/value pairs for `PQconnectdbParams` with `expand_dbname`: the URL first, then settings that
    /// override it (`connect_timeout` only when the URL sets none).
    var connectParameters: [(String, String)] {
        var parameters: [(String, String)] = [
            ("dbname", conninfo),
            ("application_name", applicationName),
        ]
        if Self.options(of: conninfo)?["connect_timeout"] == nil {
            parameters.append(("connect_timeout", String(max(2, connectTimeout.wholeSeconds))))
        }
        if let statementTimeout {
            parameters.append(("options", "-c statement_timeout=\(statementTimeout.milliseconds)"))
        }
        return parameters
    }

    /// The options `conninfo` sets, by keyword, as libpq parses them; nil when it does not parse.
    private static func options(of conninfo: String) -> [String: String]? {
        guard let options = PQconninfoParse(conninfo, nil) else { return nil }
        defer { PQconninfoFree(options) }
        var values: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { values[String(cString: keyword)] = String(cString: value) }
            option += 1
        }
        return values
    }
}
