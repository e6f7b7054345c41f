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
    /// `GET` of the path given with `--path`, sent instead of the mix to measure the generator or one URL alone.
    case raw

    /// The status code of a successful answer.
    func isSuccess(_ status: Int) -> Bool {
        switch self {
        case .create: status == 201
        case .raw: (200..<300).contains(status)
        default: status == 200
        }
    }
}
