/// What a conditional write (`If-Match`) requires of the entry as it is stored: any existing entry, or one whose
/// current representation passes `matches` (the HTTP layer compares entity tags; the service knows none).
public enum EntryPrecondition: Sendable {
    /// `If-Match: *`: the entry must exist.
    case exists
    /// The stored entry must pass this test.
    case matches(@Sendable (Entry) -> Bool)

    func holds(for entry: Entry?) -> Bool {
        switch (self, entry) {
        case (_, nil): false
        case (.exists, _?): true
        case (.matches(let test), let entry?): test(entry)
        }
    }
}
