import Foundation

/// What happened to an entry, as a webhook subscribes to it and a delivery names it.
public enum WebhookEvent: String, CaseIterable, Sendable {
    case created = "entry.created"
    case updated = "entry.updated"
    case deleted = "entry.deleted"
}

/// A receiver of the user's entry events.
public struct Webhook: Sendable, Equatable {
    public let id: UUID
    public let url: String
    public let events: [WebhookEvent]
    public let description: String?
    public let createdAt: Date
    /// When deliveries were given up after failing for `WebhookOutbox.giveUpAfter`; nil while it is enabled.
    public let disabledAt: Date?
}

/// `POST /v1/webhooks` as decoded: nil members were absent; `problems` holds what could not be decoded.
public struct NewWebhook: Sendable {
    public var url: String?
    public var events: [String]?
    public var description: String?
    public var problems: [FieldError]

    public init(url: String?, events: [String]?, description: String?, problems: [FieldError] = []) {
        self.url = url
        self.events = events
        self.description = description
        self.problems = problems
    }
}

/// One attempt to deliver an event, as the delivery log keeps it.
public struct WebhookDelivery: Sendable, Equatable {
    public let eventID: UUID
    public let eventType: String
    public let attempt: Int
    public let attemptedAt: Date
    /// The receiver's HTTP status; nil when no answer came (refused, reset, timed out, not a public address).
    public let statusCode: Int?
    public let durationMilliseconds: Int
    /// Why it failed; nil for a delivered event.
    public let error: String?
}
