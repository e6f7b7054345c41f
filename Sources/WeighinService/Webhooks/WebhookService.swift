import Foundation
import Postgres

/// The user's webhooks: create (with a secret shown once), list, delete, and the log of their deliveries.
public final class WebhookService: Sendable {
    /// Webhooks per user.
    public static let limit = 10
    /// A URL's length in Unicode code points.
    public static let urlLength = 1...2000
    /// A description's length in Unicode code points.
    public static let descriptionLength = 0...500
    /// Deliveries per page of the log.
    public static let deliveryPageSizes = 1...100
    public static let defaultDeliveryPageSize = 20

    let database: Database
    /// Whether a URL's host must resolve to public addresses only (production: no request reaches the service's own
    /// network).
    let publicAddressesOnly: Bool

    init(database: Database, publicAddressesOnly: Bool) {
        self.database = database
        self.publicAddressesOnly = publicAddressesOnly
    }

    static let columns: SQL = "id, url, array_to_string(events, ',') AS events, description, created_at, disabled_at"

    /// Creates a webhook; returns it and its secret, which is shown this once.
    public func create(_ auth: Authentication, _ input: NewWebhook) async throws -> (Webhook, WebhookSecret) {
        var v = Validator(input.problems)
        let url = v.require(input.url, "url").flatMap { Self.checkedURL($0, &v) }
        var events = WebhookEvent.allCases
        if let names = input.events {
            let known = names.compactMap(WebhookEvent.init(rawValue:))
            if names.isEmpty || known.count != names.count {
                let choices = WebhookEvent.allCases.map(\.rawValue).joined(separator: ", ")
                v.fail("events", "must be a non-empty list of \(choices)")
            }
            events = WebhookEvent.allCases.filter(known.contains)
        }
        if let description = input.description, !Self.descriptionLength.contains(description.unicodeScalars.count) {
            v.fail("description", "must be at most \(Self.descriptionLength.upperBound) characters")
        }
        try v.check()
        if publicAddressesOnly, let host = url?.host, !(await PublicAddress.resolvesToPublicOnly(host)) {
            throw ServiceError.invalid("url", "must name a host that resolves to public addresses only")
        }
        let secret = WebhookSecret.random()
        let eventList = events.map(\.rawValue).joined(separator: ",")
        let row = try await database.withTransaction { transaction in
            // Under the user's row lock, as every writer of the user: two creations at once cannot both pass the limit.
            try await ChangeCounter.lockUser(auth.userID, in: transaction)
            let rows = try await transaction.query(
                SQL("""
                    INSERT INTO webhooks (user_id, url, events, description, secret)
                    SELECT \(auth.userID), \(url!.text), string_to_array(\(eventList), ','), \(input.description),
                           \(secret.key)
                    WHERE (SELECT count(*) FROM webhooks WHERE user_id = \(auth.userID)) < \(Self.limit)
                    RETURNING \(Self.columns)
                    """, name: "webhooks.insert"))
            guard let row = rows.first else { throw ServiceError.limitReached(what: "webhooks", limit: Self.limit) }
            return row
        }
        return (try Self.webhook(row), secret)
    }

    /// The user's webhooks, oldest first.
    public func list(_ auth: Authentication) async throws -> [Webhook] {
        let rows = try await database.query(
            SQL("SELECT \(Self.columns) FROM webhooks WHERE user_id = \(auth.userID) ORDER BY created_at, id",
                name: "webhooks.list"))
        return try rows.map(Self.webhook)
    }

    /// Deletes a webhook with its pending events and its log; another user's or a missing one throws `notFound`.
    public func delete(_ auth: Authentication, id: UUID) async throws {
        let rows = try await database.query(
            SQL("DELETE FROM webhooks WHERE id = \(id) AND user_id = \(auth.userID)", name: "webhooks.delete"))
        guard rows.affectedRows == 1 else { throw ServiceError.notFound }
    }

    /// The webhook's latest delivery attempts, newest first; another user's or a missing webhook throws `notFound`.
    public func deliveries(_ auth: Authentication, id: UUID, limit: Int, problems: [FieldError] = []) async throws
        -> [WebhookDelivery]
    {
        try Validator(problems).check()
        let rows = try await database.query(
            SQL("""
                SELECT d.event_id, d.event_type, d.attempt, d.attempted_at, d.status_code, d.duration_ms, d.error
                FROM webhooks w
                LEFT JOIN LATERAL (SELECT * FROM webhook_deliveries
                                   WHERE webhook_id = w.id AND user_id = \(auth.userID)
                                   ORDER BY attempted_at DESC LIMIT \(limit)) d ON true
                WHERE w.id = \(id) AND w.user_id = \(auth.userID)
                ORDER BY d.attempted_at DESC
                """, name: "webhooks.deliveries"))
        guard !rows.isEmpty else { throw ServiceError.notFound }
        return try rows.compactMap { row in
            guard let eventID = try row.decode(UUID?.self, column: "event_id") else { return nil }
            return WebhookDelivery(
                eventID: eventID, eventType: try row.decode(column: "event_type"),
                attempt: try row.decode(column: "attempt"), attemptedAt: try row.decode(column: "attempted_at"),
                statusCode: try row.decode(column: "status_code"),
                durationMilliseconds: try row.decode(column: "duration_ms"), error: try row.decode(column: "error"))
        }
    }

    /// A URL the service may post to: `http` or `https` with a host, at most 2,000 characters.
    static func checkedURL(_ text: String, _ v: inout Validator) -> (text: String, host: String)? {
        guard urlLength.contains(text.unicodeScalars.count) else {
            v.fail("url", "must be \(urlLength.lowerBound) to \(urlLength.upperBound) characters")
            return nil
        }
        guard let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty,
            text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F })
        else {
            v.fail("url", "must be an absolute http or https URL with a host")
            return nil
        }
        return (text, host)
    }

    static func webhook(_ row: PostgresRow) throws -> Webhook {
        let names: String = try row.decode(column: "events")
        return Webhook(
            id: try row.decode(column: "id"), url: try row.decode(column: "url"),
            events: names.split(separator: ",").compactMap { WebhookEvent(rawValue: String($0)) },
            description: try row.decode(column: "description"), createdAt: try row.decode(column: "created_at"),
            disabledAt: try row.decode(column: "disabled_at"))
    }
}
