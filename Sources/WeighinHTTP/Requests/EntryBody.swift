import WeighinService

/// Reading the entry members of a body: POST's new entry, PATCH's change, an import row.
extension BodyReader {
    /// The members an entry body may have.
    static let entryMembers: Set<String> = [
        "weight", "unit", "recorded_on", "measured_at", "note", "body_fat_percent", "water_percent", "muscle_percent",
        "visceral_fat", "source",
    ]

    /// A new entry: null members count as absent. Decoding failures go to `problems` (filled by the caller with
    /// `errors` once every member is read). An import row takes an empty `unit` as the display unit, as in CSV.
    mutating func newEntry(importRow: Bool = false) -> NewEntry {
        NewEntry(
            weight: number("weight", required: !importRow), unit: importRow ? unitOrEmpty("unit") : unit("unit"),
            recordedOn: nullable("recorded_on") { $0.date($1) } ?? nil,
            measuredAt: nullable("measured_at") { $0.timestamp($1) } ?? nil,
            note: nullableString("note") ?? nil,
            composition: BodyComposition(
                bodyFatPercent: nullable("body_fat_percent") { $0.number($1) } ?? nil,
                waterPercent: nullable("water_percent") { $0.number($1) } ?? nil,
                musclePercent: nullable("muscle_percent") { $0.number($1) } ?? nil,
                visceralFat: nullable("visceral_fat") { $0.integer($1) } ?? nil,
                source: nullableString("source") ?? nil))
    }

    /// A partial change: absent members stay, null clears what may be null.
    mutating func entryChange() -> EntryChange {
        EntryChange(
            weight: number("weight"), unit: unit("unit"), recordedOn: date("recorded_on"),
            measuredAt: nullable("measured_at") { $0.timestamp($1) }, note: nullableString("note"),
            bodyFatPercent: nullable("body_fat_percent") { $0.number($1) },
            waterPercent: nullable("water_percent") { $0.number($1) },
            musclePercent: nullable("muscle_percent") { $0.number($1) },
            visceralFat: nullable("visceral_fat") { $0.integer($1) }, source: nullableString("source"))
    }
}
