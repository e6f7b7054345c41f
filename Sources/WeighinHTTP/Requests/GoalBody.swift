import WeighinService

/// Reading a goal body: `{target_weight, unit?, target_date?, start_weight?, start_date?}`.
extension BodyReader {
    /// The members a goal body may have.
    static let goalMembers: Set<String> = ["target_weight", "unit", "target_date", "start_weight", "start_date"]

    /// A goal: null optional members count as absent. Decoding failures go to `problems` (filled by the caller).
    mutating func newGoal() -> NewGoal {
        NewGoal(
            targetWeight: number("target_weight", required: true), unit: nullable("unit") { $0.unit($1) } ?? nil,
            targetDate: nullable("target_date") { $0.date($1) } ?? nil,
            startWeight: nullable("start_weight") { $0.number($1) } ?? nil,
            startDate: nullable("start_date") { $0.date($1) } ?? nil)
    }
}
