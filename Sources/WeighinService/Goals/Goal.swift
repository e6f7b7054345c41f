import Foundation
import Postgres
import Primitives

/// Which way a goal moves from its start.
public enum GoalDirection: String, Sendable {
    case lose, gain

    /// The direction from `start` to `target`, compared exactly in kilograms; nil when they are equal.
    init?(from start: Weight, to target: Weight) {
        let from = start.converted(to: .kg)
        let to = target.converted(to: .kg)
        if to == from { return nil }
        self = to < from ? .lose : .gain
    }
}

/// A user's goal as stored: the target and the start, each exactly as given in its own unit.
public struct Goal: Sendable, Equatable {
    public let target: Weight
    /// The day the target should be reached by, if any.
    public let targetDate: CalendarDate?
    public let start: Weight
    public let startDate: CalendarDate
    public let createdAt: Date
    public let updatedAt: Date

    /// Lose or gain: the target always differs from the start (checked on input and by the table).
    public var direction: GoalDirection {
        GoalDirection(from: start, to: target) ?? .lose
    }

    /// The columns `init(row:)` reads, in a fixed order.
    static let columns: SQL = """
        target_weight, target_unit, target_date, start_weight, start_unit, start_date, created_at, updated_at
        """
}

extension Goal {
    init(row: PostgresRow) throws {
        target = Weight(
            value: try row.decode(column: "target_weight"), unit: try row.decode(column: "target_unit"))
        targetDate = try row.decode(column: "target_date")
        start = Weight(value: try row.decode(column: "start_weight"), unit: try row.decode(column: "start_unit"))
        startDate = try row.decode(column: "start_date")
        createdAt = try row.decode(column: "created_at")
        updatedAt = try row.decode(column: "updated_at")
    }
}

/// A goal as decoded from a request: typed members (nil when absent, null or undecodable) and what could not be
/// decoded.
public struct NewGoal: Sendable {
    public var targetWeight: Decimal?
    /// The unit of `targetWeight` and `startWeight`; nil: the display unit of the request.
    public var unit: WeightUnit?
    public var targetDate: CalendarDate?
    public var startWeight: Decimal?
    public var startDate: CalendarDate?
    /// Members that could not be decoded.
    public var problems: [FieldError]

    public init(
        targetWeight: Decimal?, unit: WeightUnit? = nil, targetDate: CalendarDate? = nil, startWeight: Decimal? = nil,
        startDate: CalendarDate? = nil, problems: [FieldError] = []
    ) {
        self.targetWeight = targetWeight
        self.unit = unit
        self.targetDate = targetDate
        self.startWeight = startWeight
        self.startDate = startDate
        self.problems = problems
    }
}

/// Where a goal stands: the answer of `GoalService.progress`, every weight in the display unit.
public struct GoalProgress: Sendable, Equatable {
    public let goal: Goal
    /// The smoothed weight on the latest day with entries; nil without entries.
    public let current: Decimal?
    /// target − current.
    public let remaining: Decimal?
    /// 0 to 100, one decimal.
    public let percentComplete: Decimal?
    /// The least-squares slope × 7 of the daily means over the 28 days ending on the latest day with entries.
    public let weeklyRate: Decimal?
    public let projectedDate: CalendarDate?
    public let state: State

    public enum State: String, Sendable, CaseIterable {
        case reached
        case notEnoughData = "not_enough_data"
        case wrongDirection = "wrong_direction"
        case onTrack = "on_track"
        case behind
    }
}
