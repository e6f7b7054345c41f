import Postgres

/// What a token may do: `read` calls only `GET`/`HEAD` on its user's data; `write` may change it too. Log-in tokens
/// are always `write`.
public enum TokenScope: String, Sendable, CaseIterable, PostgresEncodable, PostgresDecodable {
    case read
    case write

    public static var postgresType: PostgresType { .text }
    public var postgresBytes: [UInt8]? { Array(rawValue.utf8) }
    public static func accepts(_ type: PostgresType) -> Bool { String.accepts(type) }
    public static func decode(binary: UnsafeRawBufferPointer, type: PostgresType) -> TokenScope? {
        String.decode(binary: binary, type: type).flatMap(TokenScope.init(rawValue:))
    }
}

/// What a call needs of the token that makes it, from least to most.
public enum AccessRequirement: Int, Sendable, Comparable {
    /// Reading the user's own data: any live token.
    case read
    /// Changing the user's data: a `write` token, personal or log-in.
    case write
    /// Managing tokens, the password, the email or the account itself: a log-in token (never a personal one).
    case logIn

    public static func < (lhs: AccessRequirement, rhs: AccessRequirement) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}
