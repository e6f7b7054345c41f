import Foundation
import Postgres

/// A request's idempotency key and the fingerprint of its body in canonical form.
public struct IdempotencyKey: Sendable {
    /// The characters (Unicode code points) a key may have.
    public static let length = 1...255

    public let key: String
    public let fingerprint: [UInt8]

    public init(key: String, fingerprint: [UInt8]) {
        self.key = key
        self.fingerprint = fingerprint
    }
}

/// An answer worth replaying: its bytes exactly as first sent, and the id of what it created.
public struct RememberedAnswer: Sendable, Equatable {
    public let body: [UInt8]
    public let resourceID: UUID

    public init(body: [UInt8], resourceID: UUID) {
        self.body = body
        self.resourceID = resourceID
    }
}

/// Answers a repeated request with the same key and body, within 24 hours, with the first answer again, byte for
/// byte, and runs nothing; the same key with another body throws `idempotencyKeyReused`.
///
/// The key is claimed, the operation run and its answer remembered in one transaction: a failed operation leaves
/// the key free, and a second request with the key waits on the claim's row lock until the first commits, then
/// replays it. It stores opaque bytes: callers render their own answers.
public final class IdempotentReplay: Sendable {
    /// How long a key is remembered.
    public static let keyLifetime: Duration = .seconds(24 * 3600)

    let database: Database

    init(database: Database) {
        self.database = database
    }

    /// The remembered answer for `key`, or the answer `operation` gives, run in the claiming transaction.
    public func perform(
        _ auth: Authentication, _ key: IdempotencyKey,
        _ operation: (Transaction) async throws -> RememberedAnswer
    ) async throws -> RememberedAnswer {
        do {
            return try await claimAndRun(auth, key, operation)
        } catch PostgresError.Code.foreignKeyViolation {
            throw ServiceError.unauthenticated  // the account was deleted meanwhile
        }
    }

    private func claimAndRun(
        _ auth: Authentication, _ key: IdempotencyKey,
        _ operation: (Transaction) async throws -> RememberedAnswer
    ) async throws -> RememberedAnswer {
        try await database.withTransaction { transaction in
            let claimed = try await transaction.query(
                SQL("""
                    INSERT INTO idempotency_keys (user_id, key, fingerprint)
                    VALUES (\(auth.userID), \(key.key), \(key.fingerprint))
                    ON CONFLICT (user_id, key) DO UPDATE
                        SET fingerprint = excluded.fingerprint, response = NULL, entry_id = NULL,
                            created_at = excluded.created_at
                        -- Only immutable functions after ON CONFLICT (Citus refuses others, 0A000): the inserted
                        -- row's created_at (the default now()) stands for the time.
                        WHERE excluded.created_at - idempotency_keys.created_at > interval '24 hours'
                    RETURNING true AS claimed
                    """, name: "idempotency.claim"))
            guard !claimed.isEmpty else {
                // Another request holds or held the key; the claim above waited for it to finish.
                return try await remembered(auth, key, in: transaction)
            }
            let answer = try await operation(transaction)
            try await transaction.query(
                SQL("""
                    UPDATE idempotency_keys SET response = \(answer.body), entry_id = \(answer.resourceID)
                    WHERE user_id = \(auth.userID) AND key = \(key.key)
                    """, name: "idempotency.remember"))
            return answer
        }
    }

    private func remembered(_ auth: Authentication, _ key: IdempotencyKey, in transaction: Transaction) async throws
        -> RememberedAnswer
    {
        let rows = try await transaction.query(
            SQL("""
                SELECT fingerprint, response, entry_id FROM idempotency_keys
                WHERE user_id = \(auth.userID) AND key = \(key.key)
                """, name: "idempotency.get"))
        guard let row = rows.first else { throw ServiceError.idempotencyKeyInUse }
        guard try row.decode([UInt8].self, column: "fingerprint") == key.fingerprint else {
            throw ServiceError.idempotencyKeyReused
        }
        guard let body = try row.decode([UInt8]?.self, column: "response"),
            let id = try row.decode(UUID?.self, column: "entry_id")
        else { throw ServiceError.idempotencyKeyInUse }
        return RememberedAnswer(body: body, resourceID: id)
    }
}
