/// Collects field failures so a request reports all of them at once, in one 422.
///
/// The HTTP layer starts one with what it could not decode (a string where a number belongs, an impossible date),
/// and the service adds what breaks its rules, so both kinds of failure come back together.
public struct Validator: Sendable {
    public private(set) var errors: [FieldError]

    /// A validator that already holds `errors` (what the caller could not decode).
    public init(_ errors: [FieldError] = []) {
        self.errors = errors
    }

    public mutating func fail(_ field: String, _ message: String) {
        errors.append(FieldError(field, message))
    }

    /// Whether `field` has failed already.
    public func hasFailed(_ field: String) -> Bool {
        errors.contains { $0.field == field }
    }

    /// `value`, or a failure "is required" on `field` when it is nil and nothing was said of that field yet (a value
    /// that failed to decode is nil too, and already named).
    public mutating func require<T>(_ value: T?, _ field: String) -> T? {
        if value == nil, !hasFailed(field) { fail(field, "is required") }
        return value
    }

    /// Throws `ServiceError.validation` when any field failed.
    public func check() throws(ServiceError) {
        if !errors.isEmpty { throw ServiceError.validation(errors) }
    }
}
