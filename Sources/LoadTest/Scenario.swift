/// A kind of request the load loop sends.
public enum Scenario: String, CaseIterable, Codable, Sendable {
    /// `GET /v1/entries?limit=30`.
    case list
    /// `POST /v1/entries` with a random weight and date.
    case create
    /// `GET /v1/stats`.
    case stats
    /// `GET /v1/entries/{id}` of one of the user's seeded entries.
    case get
    /// `GET /v1/trend`.
    case trend
    /// `GET /v1/me`.
    case me
    /// `GET /v1/trend?method=ema`: the whole history folded in one statement.
    case ema
    /// `GET /v1/goal/progress`; seeding gives every user a goal.
    case progress
    /// `GET /v1/changes?limit=30`: the first page of the user's change feed.
    case changes
    /// `PUT /v1/entries/by-client-id/{id}` of one of a few thousand ids per user, with a growing `client_version`:
    /// creates the entry or replaces it.
    case put
    /// `GET` of the path given with `--path`, sent instead of the mix to measure the generator or one URL alone.
    case raw

    /// The status code of a successful answer.
    func isSuccess(_ status: Int) -> Bool {
        switch self {
        case .create: status == 201
        case .put: status == 200 || status == 201
        case .raw: (200..<300).contains(status)
        default: status == 200
        }
    }
}
