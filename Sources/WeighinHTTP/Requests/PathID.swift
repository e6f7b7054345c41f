import Foundation
import Hummingbird
import Primitives

extension AppRequestContext {
    /// The `{id}` of the path (an entry's, a token's, a webhook's) as a UUID in the canonical 36-character form; any
    /// other form is not found (404), exactly like an id that does not exist.
    func pathID() throws -> UUID {
        guard let raw = parameters.get("id"), let id = UUID(canonical: raw.utf8) else {
            throw Problem.notFound
        }
        return id
    }
}
