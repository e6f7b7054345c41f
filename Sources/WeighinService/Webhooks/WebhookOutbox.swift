import Foundation
import Postgres

/// An event claimed for delivery to one webhook.
public struct PendingDelivery: Sendable {
    /// The outbox row.
    public let seq: Int64
    public let webhookID: UUID
    public let userID: UUID
    public let url: String
    public let secret: WebhookSecret
    public let eventID: UUID
    public let event: WebhookEvent
    public let entryID: UUID
    /// The entry as the change left it; nil for a deletion.
    public let entry: Entry?
    /// When the change was made.
    public let createdAt: Date
    /// This attempt's number, from 1.
    public let attempt: Int
}

/// The events waiting for delivery (`webhook_outbox`, written by the entries' triggers in the changes'
/// transactions) and what happens after each attempt.
///
/// Workers of any number of instances claim due events with `FOR UPDATE SKIP LOCKED` and a lease (`claimLease`):
/// two workers never hold the same attempt, and the claim of a worker that died passes to another once it lapses.
/// Each webhook's events go out one at a time in the order they were made (only the head of its queue is ever
/// claimed), so a receiver sees a failing event retried before any later one.
public final class WebhookOutbox: Sendable {
    /// How long a claim holds: longer than an attempt may take (`WebhookOutbox.attemptTimeout` plus margin).
    public static let claimLease: Duration = .seconds(60)
    /// How long one attempt may take.
    public static let attemptTimeout: Duration = .seconds(10)
    /// Failing this long since its first attempt, an event disables its webhook.
    public static let giveUpAfter: Duration = .seconds(24 * 3600)
    /// The wait before each retry: the first within 10 s, then growing to 8 hours.
    public static let retryDelays: [Duration] = [5, 30, 120, 600, 1800, 3600, 7200, 14_400, 28_800].map { .seconds($0) }
    /// How long the delivery log is kept.
    public static let logRetention: Duration = .seconds(30 * 86_400)

    let database: Database

    init(database: Database) {
        self.database = database
    }

    /// Claims up to `limit` due events, at most one per webhook (the oldest of its queue), for `claimLease`.
    public func claim(limit: Int) async throws -> [PendingDelivery] {
        let lease = Self.claimLease.wholeSeconds
        let rows = try await database.query(
            SQL("""
                WITH heads AS (
                    SELECT DISTINCT ON (webhook_id) seq FROM webhook_outbox ORDER BY webhook_id, seq),
                due AS (
                    SELECT o.seq FROM webhook_outbox o JOIN heads USING (seq)
                    WHERE o.next_attempt_at <= now() AND (o.claimed_until IS NULL OR o.claimed_until < now())
                    ORDER BY o.next_attempt_at LIMIT \(limit)
                    FOR UPDATE OF o SKIP LOCKED),
                claimed AS (
                    UPDATE webhook_outbox o
                    SET claimed_until = now() + make_interval(secs => \(lease)), attempts = o.attempts + 1,
                        first_attempted_at = coalesce(o.first_attempted_at, now())
                    FROM due WHERE o.seq = due.seq
                    RETURNING o.seq, o.webhook_id, o.user_id, o.event_id, o.event_type, o.entry_id, o.entry,
                              o.created_at AS event_at, o.attempts)
                SELECT r.*, c.seq, c.webhook_id, c.user_id, c.event_id, c.event_type, c.entry_id,
                       c.entry IS NOT NULL AS has_entry, c.event_at, c.attempts, w.url, w.secret
                FROM claimed c JOIN webhooks w ON w.id = c.webhook_id
                LEFT JOIN LATERAL (SELECT \(Entry.columns)
                                   FROM jsonb_populate_record(NULL::weight_entries, c.entry)) r ON true
                ORDER BY c.seq
                """, name: "webhooks.claim"))
        return try rows.map { row in
            PendingDelivery(
                seq: try row.decode(column: "seq"), webhookID: try row.decode(column: "webhook_id"),
                userID: try row.decode(column: "user_id"), url: try row.decode(column: "url"),
                secret: WebhookSecret(key: try row.decode(column: "secret")),
                eventID: try row.decode(column: "event_id"),
                event: WebhookEvent(rawValue: try row.decode(column: "event_type")) ?? .updated,
                entryID: try row.decode(column: "entry_id"),
                entry: try row.decode(Bool.self, column: "has_entry") ? try Entry(row: row) : nil,
                createdAt: try row.decode(column: "event_at"), attempt: try row.decode(column: "attempts"))
        }
    }

    /// The receiver took it: the event leaves the outbox and the log keeps the attempt.
    public func delivered(_ delivery: PendingDelivery, statusCode: Int, duration: Duration) async throws {
        try await database.query(
            SQL("""
                WITH done AS (DELETE FROM webhook_outbox WHERE seq = \(delivery.seq) AND user_id = \(delivery.userID))
                INSERT INTO webhook_deliveries (webhook_id, user_id, event_id, event_type, attempt, status_code,
                                                duration_ms, error)
                VALUES (\(delivery.webhookID), \(delivery.userID), \(delivery.eventID), \(delivery.event.rawValue),
                        \(delivery.attempt), \(statusCode), \(Self.milliseconds(duration)), NULL)
                """, name: "webhooks.delivered"))
    }

    /// The attempt failed: the log keeps it and the event waits for its next attempt, unless it has failed since
    /// `giveUpAfter` ago: then the webhook is disabled and its pending events dropped. Returns whether it was.
    @discardableResult
    public func failed(_ delivery: PendingDelivery, statusCode: Int?, error: String, duration: Duration) async throws
        -> Bool
    {
        let delay = Self.retryDelays[min(delivery.attempt, Self.retryDelays.count) - 1].wholeSeconds
        let giveUp = Self.giveUpAfter.wholeSeconds
        let rows = try await database.query(
            SQL("""
                WITH logged AS (
                    INSERT INTO webhook_deliveries (webhook_id, user_id, event_id, event_type, attempt, status_code,
                                                    duration_ms, error)
                    VALUES (\(delivery.webhookID), \(delivery.userID), \(delivery.eventID),
                            \(delivery.event.rawValue), \(delivery.attempt), \(statusCode),
                            \(Self.milliseconds(duration)), \(error))),
                retried AS (
                    UPDATE webhook_outbox
                    SET claimed_until = NULL, next_attempt_at = now() + make_interval(secs => \(delay))
                    WHERE seq = \(delivery.seq) AND user_id = \(delivery.userID)
                    RETURNING first_attempted_at < now() - make_interval(secs => \(giveUp)) AS give_up)
                SELECT coalesce((SELECT give_up FROM retried), false) AS give_up
                """, name: "webhooks.failed"))
        guard try rows[0].decode(Bool.self, column: "give_up") else { return false }
        // (A statement of its own: a row changed by one part of a statement cannot be changed by another.)
        try await database.query(
            SQL("""
                WITH disabled AS (
                    UPDATE webhooks SET disabled_at = now()
                    WHERE id = \(delivery.webhookID) AND user_id = \(delivery.userID) AND disabled_at IS NULL)
                DELETE FROM webhook_outbox WHERE webhook_id = \(delivery.webhookID) AND user_id = \(delivery.userID)
                """, name: "webhooks.disable"))
        return true
    }

    /// Gives a claim back unattempted (the service is stopping): the event is due again at once.
    public func release(_ delivery: PendingDelivery) async throws {
        try await database.query(
            SQL("""
                UPDATE webhook_outbox SET claimed_until = NULL, attempts = attempts - 1
                WHERE seq = \(delivery.seq) AND user_id = \(delivery.userID)
                """, name: "webhooks.release"))
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }
}
