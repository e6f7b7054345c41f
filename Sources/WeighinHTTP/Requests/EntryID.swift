import Foundation
import Hummingbird
import Primitives

extension AppRequestContext {
    /// The `{id}` of the path as a UUID in the canonical 36-character form; any other form is not found (404),
    /// exactly like an id that does not exist.
    func entryID() throws -> UUID {
        try pathID()
    }

    /// The `{id}` of a webhook's path, read as `entryID` reads an entry's.
    func webhookID() throws -> UUID {
        try pathID()
    }

    private func pathID() throws -> UUID {
        guard let raw = parameters.get("id"), let id = UUID(canonical: raw.utf8) else {
            throw Problem.notFound
        }
        return id
    }
}
