import Foundation
import Postgres

/// A request for a personal access token, as decoded from a request: nil when absent or undecodable.
public struct TokenRequest: Sendable {
    public var name: String?
    public var scope: TokenScope?
    public var expiresInDays: Int?
    /// Fields that could not be decoded.
    public var problems: [FieldError]

    public init(name: String?, scope: TokenScope?, expiresInDays: Int?, problems: [FieldError] = []) {
        self.name = name
        self.scope = scope
        self.expiresInDays = expiresInDays
        self.problems = problems
    }
}

/// A live token as listed: never its secret. Log-in tokens have no name.
public struct TokenSummary: Sendable, Equatable {
    public let id: UUID
    /// The name given at creation; nil for a log-in token.
    public let name: String?
    public let scope: TokenScope
    public let createdAt: Date
    public let expiresAt: Date
    /// When the token was last used, to within `TokenService.useRecordInterval`; nil if never.
    public let lastUsedAt: Date?

    /// The columns `init(row:)` reads.
    static let columns: SQL = "id, name, scope, created_at, expires_at, last_used_at"

    init(row: PostgresRow) throws {
        id = try row.decode(column: "id")
        name = try row.decode(column: "name")
        scope = try row.decode(column: "scope")
        createdAt = try row.decode(column: "created_at")
        expiresAt = try row.decode(column: "expires_at")
        lastUsedAt = try row.decode(column: "last_used_at")
    }
}

/// A personal token just made: its summary, and the token itself, shown this once.
public struct CreatedToken: Sendable {
    public let summary: TokenSummary
    public let token: String
}

/// The rules of personal tokens.
public enum TokenRules {
    /// Live tokens a user may have, log-in tokens included.
    public static let liveLimit = 100
    /// Lengths of a personal token's name, after trimming.
    public static let nameLength = 1...100
    /// Lifetimes a personal token may be given, in days.
    public static let expiryDays = 1...365
    /// The lifetime of a personal token when none is given, in days.
    public static let defaultExpiryDays = 90

    /// A scope as clients send it: `read` or `write`.
    public static func scope(_ raw: String, _ v: inout Validator, field: String) -> TokenScope? {
        guard let scope = TokenScope(rawValue: raw) else {
            v.fail(field, "must be \"read\" or \"write\"")
            return nil
        }
        return scope
    }

    /// The checked request: name trimmed, scope, lifetime in days.
    static func check(_ request: TokenRequest) throws(ServiceError) -> (name: String, scope: TokenScope, days: Int) {
        var v = Validator(request.problems)
        let name = v.require(request.name, "name")?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let name, !nameLength.contains(name.unicodeScalars.count) {
            v.fail("name", "must be \(nameLength.lowerBound) to \(nameLength.upperBound) characters after trimming")
        }
        let scope = v.require(request.scope, "scope")
        let days = request.expiresInDays ?? defaultExpiryDays
        if !expiryDays.contains(days), !v.hasFailed("expires_in_days") {
            v.fail("expires_in_days", "must be a whole number from \(expiryDays.lowerBound) to \(expiryDays.upperBound)")
        }
        try v.check()
        return (name!, scope!, days)
    }
}
