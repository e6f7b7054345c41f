import Foundation
import Postgres
import Primitives

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

    /// The columns `init(row:)` reads, which every entry statement selects first, in this order.
    static let columns: SQL = "id, weight, unit, recorded_on, note, created_at, updated_at"

    /// Reads `columns` by position (listing decodes thousands of these per second; names cost a lookup each).
    init(row: PostgresRow) throws {
        id = try row.decode(at: 0)
        weight = Weight(value: try row.decode(at: 1), unit: try row.decode(at: 2))
        recordedOn = try row.decode(at: 3)
        note = try row.decode(at: 4)
        createdAt = try row.decode(at: 5)
        updatedAt = try row.decode(at: 6)
    }
}
