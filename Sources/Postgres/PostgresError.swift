/// The one error type of the database layer: a server error with its SQLSTATE, or a client-side failure.
///
/// It carries what an operator needs (code, message, constraint, the failing statement's name) but its
/// `description` never prints bound values, `detail` (which quotes row values) or passwords.
public struct PostgresError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The SQLSTATE code (`23505`), or one of the client-side codes in class `WP` (see `Code`).
    public var code: Code
    /// The server's primary message (may quote values: keep it out of answers to clients).
    public var message: String
    /// The server's detail line, e.g. `Key (email)=(a@b.c) already exists.`: may hold row values.
    public var detail: String?
    /// The constraint that failed, for integrity errors.
    public var constraint: String?
    /// The table the error is about, when the server names one.
    public var table: String?
    /// The column the error is about, when the server names one.
    public var column: String?
    /// The failing statement's name (its `SQL.name`, or the start of its text, which never holds values).
    public var statement: String?

    public init(
        code: Code, message: String, detail: String? = nil, constraint: String? = nil,
        table: String? = nil, column: String? = nil, statement: String? = nil
    ) {
        self.code = code
        self.message = message
        self.detail = detail
        self.constraint = constraint
        self.table = table
        self.column = column
        self.statement = statement
    }

    /// The connection is gone or could not be made: the statement's outcome may be unknown, retrying on a new
    /// connection is the remedy.
    public var isConnectionFailure: Bool {
        code.class == "08" || code == .adminShutdown || code == .crashShutdown || code == .cannotConnectNow
            || code == .connectionClosed || code == .clientTimeout
    }

    /// Failures that go away on their own (connection loss, pool exhaustion, timeouts, serialization conflicts):
    /// a caller should answer "try again later", never "internal error".
    public var isTransient: Bool {
        isConnectionFailure || code == .poolTimeout || code == .queryCanceled || code == .serializationFailure
            || code == .deadlockDetected || code == .lockNotAvailable || code == .tooManyConnections
            || code == .commitNotReplicated
    }

    public var description: String {
        var text = "PostgreSQL error \(code.rawValue)"
        if let name = code.name { text += " (\(name))" }
        if let statement { text += " in statement '\(statement)'" }
        if let constraint { text += ", constraint \(constraint)" }
        text += ": " + Self.redacted(message, code: code)
        return text
    }

    /// Data exceptions (class 22) quote the offending input in their message; those quotes are withheld.
    private static func redacted(_ message: String, code: Code) -> String {
        guard code.class == "22" else { return message }
        var out = ""
        var inQuote = false
        for ch in message {
            if ch == "\"" {
                if !inQuote { out += "\"…\"" }
                inQuote.toggle()
            } else if !inQuote {
                out.append(ch)
            }
        }
        return out
    }
}

extension PostgresError {
    /// A SQLSTATE code. Named codes make `catch` clauses readable:
    /// `catch let error as PostgresError where error.code == .uniqueViolation` or
    /// `catch PostgresError.Code.uniqueViolation`.
    public struct Code: Hashable, Sendable, RawRepresentable, ExpressibleByStringLiteral {
        public let rawValue: String

        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { self.rawValue = value }

        /// The first two characters: the error class (`23` integrity, `08` connection, ...).
        public var `class`: Substring { rawValue.prefix(2) }

        // Integrity constraint violations.
        public static let notNullViolation: Code = "23502"
        public static let foreignKeyViolation: Code = "23503"
        public static let uniqueViolation: Code = "23505"
        public static let checkViolation: Code = "23514"
        public static let exclusionViolation: Code = "23P01"
        // Transactions and concurrency.
        public static let serializationFailure: Code = "40001"
        public static let deadlockDetected: Code = "40P01"
        public static let lockNotAvailable: Code = "55P03"
        public static let inFailedTransaction: Code = "25P02"
        // Operator intervention and resources.
        public static let queryCanceled: Code = "57014"
        public static let adminShutdown: Code = "57P01"
        public static let crashShutdown: Code = "57P02"
        public static let cannotConnectNow: Code = "57P03"
        public static let tooManyConnections: Code = "53300"
        // Connection exceptions (libpq reports client-detected losses as 08006).
        public static let connectionException: Code = "08000"
        public static let connectionDoesNotExist: Code = "08003"
        public static let connectionFailure: Code = "08006"
        public static let unableToConnect: Code = "08001"
        // Data exceptions and syntax.
        public static let invalidTextRepresentation: Code = "22P02"
        public static let characterNotInRepertoire: Code = "22021"
        public static let numericValueOutOfRange: Code = "22003"
        public static let syntaxError: Code = "42601"
        public static let undefinedTable: Code = "42P01"
        public static let undefinedColumn: Code = "42703"
        public static let duplicateDatabase: Code = "42P04"
        public static let invalidPreparedStatement: Code = "26000"
        // Client-side codes (class WP, not used by PostgreSQL).
        /// No connection became free within the pool's wait limit, or its wait queue was full.
        public static let poolTimeout: Code = "WP001"
        /// The pool or connection was closed by this process.
        public static let connectionClosed: Code = "WP002"
        /// A value could not be decoded into the requested Swift type.
        public static let decodingFailed: Code = "WP003"
        /// A statement outlived the client-side deadline; its connection was dropped.
        public static let clientTimeout: Code = "WP004"
        /// The statement's commit happened on this server, but its wait for the synchronous standby was cancelled
        /// (statement timeout or cancel): the server warns, and the write may be lost if this server is replaced.
        public static let commitNotReplicated: Code = "WP005"

        /// The condition name PostgreSQL documents for this code, when it is one of the named codes.
        public var name: String? {
            switch self {
            case .notNullViolation: "not_null_violation"
            case .foreignKeyViolation: "foreign_key_violation"
            case .uniqueViolation: "unique_violation"
            case .checkViolation: "check_violation"
            case .exclusionViolation: "exclusion_violation"
            case .serializationFailure: "serialization_failure"
            case .deadlockDetected: "deadlock_detected"
            case .lockNotAvailable: "lock_not_available"
            case .inFailedTransaction: "in_failed_sql_transaction"
            case .queryCanceled: "query_canceled"
            case .adminShutdown: "admin_shutdown"
            case .crashShutdown: "crash_shutdown"
            case .cannotConnectNow: "cannot_connect_now"
            case .tooManyConnections: "too_many_connections"
            case .connectionException: "connection_exception"
            case .connectionDoesNotExist: "connection_does_not_exist"
            case .connectionFailure: "connection_failure"
            case .unableToConnect: "sqlclient_unable_to_establish_sqlconnection"
            case .invalidTextRepresentation: "invalid_text_representation"
            case .characterNotInRepertoire: "character_not_in_repertoire"
            case .numericValueOutOfRange: "numeric_value_out_of_range"
            case .syntaxError: "syntax_error"
            case .undefinedTable: "undefined_table"
            case .undefinedColumn: "undefined_column"
            case .duplicateDatabase: "duplicate_database"
            case .invalidPreparedStatement: "invalid_sql_statement_name"
            case .poolTimeout: "pool_timeout"
            case .connectionClosed: "connection_closed"
            case .decodingFailed: "decoding_failed"
            case .clientTimeout: "client_timeout"
            case .commitNotReplicated: "commit_not_replicated"
            default: nil
            }
        }

        /// Lets a code stand as a `catch` pattern: `catch PostgresError.Code.uniqueViolation { ... }`.
        public static func ~= (pattern: Code, error: any Error) -> Bool {
            (error as? PostgresError)?.code == pattern
        }
    }
}
