import Foundation
import Primitives
import WeighinService
import WireFormats

/// What one delivery sends: the JSON body `{"id", "type", "created_at", "data"}` and the Standard Webhooks headers
/// signed over it.
struct WebhookMessage {
    let body: [UInt8]
    let headers: [(name: String, value: String)]

    /// The message of `delivery`, signed at `timestamp` (Unix seconds, each attempt its own).
    init(_ delivery: PendingDelivery, timestamp: Int) {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("id"); writer.uuid(delivery.eventID)
        writer.key("type"); writer.string(delivery.event.rawValue)
        writer.key("created_at"); writer.timestamp(delivery.createdAt)
        writer.key("data")
        if let entry = delivery.entry {
            writer.entry(entry, display: entry.weight.unit)
        } else {
            writer.beginObject()
            writer.key("id"); writer.uuid(delivery.entryID)
            writer.endObject()
        }
        writer.endObject()
        body = writer.bytes
        let id = delivery.eventID.lowercasedString
        headers = [
            ("Content-Type", "application/json"),
            ("User-Agent", "weighin-webhooks"),
            ("webhook-id", id),
            ("webhook-timestamp", String(timestamp)),
            ("webhook-signature", delivery.secret.signature(id: id, timestamp: timestamp, body: body)),
        ]
    }
}
