import Foundation
import Postgres

/// A weight entry, with its weight exactly as entered.
public struct Entry: Sendable, Equatable {
    public let id: UUID
    public let weight: Weight
    public let recordedOn: CalendarDate
    public let note: String?
    public let createdAt: Date
    public let updatedAt: Date

    public init(id: UUID, weight: Weight, recordedOn: CalendarDate, note: String?, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.weight = weight
        self.recordedOn = recordedOn
        self.note = note
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The columns `init(row:)` reads.
    static let columns: SQL = "id, weight, unit, recorded_on, note, created_at, updated_at"

    init(row: PostgresRow) throws {
        id = try row.decode(column: "id")
        weight = Weight(value: try row.decode(column: "weight"), unit: try row.decode(column: "unit"))
        recordedOn = try row.decode(column: "recorded_on")
        note = try row.decode(column: "note")
        createdAt = try row.decode(column: "created_at")
        updatedAt = try row.decode(column: "updated_at")
    }
}
