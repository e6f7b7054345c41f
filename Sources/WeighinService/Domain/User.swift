import Foundation
import Postgres

/// An account as clients see it: no password material.
public struct User: Sendable, Equatable {
    public let id: UUID
    public let email: String
    public let name: String
    public let weightUnit: WeightUnit
    public let createdAt: Date

    public init(id: UUID, email: String, name: String, weightUnit: WeightUnit, createdAt: Date) {
        self.id = id
        self.email = email
        self.name = name
        self.weightUnit = weightUnit
        self.createdAt = createdAt
    }

    /// The columns `init(row:)` reads.
    static let columns: SQL = "id, email, name, weight_unit, created_at"

    init(row: PostgresRow) throws {
        id = try row.decode(column: "id")
        email = try row.decode(column: "email")
        name = try row.decode(column: "name")
        weightUnit = try row.decode(column: "weight_unit")
        createdAt = try row.decode(column: "created_at")
    }
}
