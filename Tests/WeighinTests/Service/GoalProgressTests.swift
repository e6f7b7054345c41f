import Foundation
import Primitives
import Testing

@testable import WeighinService

/// The progress rules on their own: states, clamping, the projection and its edges.
@Suite("Service: goal progress rules")
struct GoalProgressTests {
    let latest = CalendarDate(year: 2020, month: 3, day: 1)!

    func goal(target: Decimal, start: Decimal, unit: WeightUnit = .kg, by targetDate: CalendarDate? = nil) -> Goal {
        Goal(
            target: Weight(value: target, unit: unit), targetDate: targetDate, start: Weight(value: start, unit: unit),
            startDate: CalendarDate(year: 2020, month: 1, day: 1)!, createdAt: Date(), updatedAt: Date())
    }

    /// A level series ending on `latest`.
    func level(_ value: Double, days: Int = 5) -> [DayValue] {
        (0..<days).map { DayValue(day: latest.adding(days: $0 - days + 1), value: value) }
    }

    @Test func theDirectionComparesExactlyAcrossUnits() {
        #expect(goal(target: 70, start: 80).direction == .lose)
        #expect(goal(target: 90, start: 80).direction == .gain)
        // 100 lb = 45.359237 kg: a target of 45.36 kg from 100 lb is a gain of 0.000763 kg.
        let g = Goal(
            target: Weight(value: Decimal(string: "45.36")!, unit: .kg), targetDate: nil,
            start: Weight(value: 100, unit: .lb), startDate: latest, createdAt: Date(), updatedAt: Date())
        #expect(g.direction == .gain)
        #expect(GoalDirection(from: Weight(value: 80, unit: .kg), to: Weight(value: Decimal(string: "80.00")!, unit: .kg)) == nil)
    }

    @Test func withoutEntriesNothingIsKnown() {
        let p = GoalProgress(goal: goal(target: 70, start: 80), display: .kg, days: [], weeklyRate: nil, exactRate: nil)
        #expect(p.current == nil && p.remaining == nil && p.percentComplete == nil && p.projectedDate == nil)
        #expect(p.state == .notEnoughData)
    }

    @Test func exactlyAtTheTargetIsReachedAndPastTheStartIsNoProgress() {
        let at = GoalProgress(goal: goal(target: 70, start: 80), display: .kg, days: level(70), weeklyRate: nil, exactRate: nil)
        #expect(at.state == .reached && at.remaining == 0 && at.percentComplete == 100)
        let above = GoalProgress(
            goal: goal(target: 70, start: 80), display: .kg, days: level(85), weeklyRate: 1, exactRate: 1)
        #expect(above.percentComplete == 0 && above.state == .wrongDirection && above.remaining == -15)
        // Halfway, to one decimal: 100 × (80 − 76.6666…) / 10 = 33.3.
        let third = GoalProgress(
            goal: goal(target: 70, start: 80), display: .kg, days: level(230.0 / 3), weeklyRate: nil, exactRate: nil)
        #expect(third.percentComplete == Decimal(string: "33.3") && third.state == .notEnoughData)
    }

    @Test func aRateThatRoundsToZeroIsNoRate() {
        // −0.004 kg a week is answered as 0: the wrong direction, rather than a projection centuries away.
        let p = GoalProgress(
            goal: goal(target: 70, start: 80), display: .kg, days: level(75), weeklyRate: 0, exactRate: -0.004)
        #expect(p.state == .wrongDirection && p.projectedDate == nil)
    }

    @Test func theProjectionRoundsUpAndAWholeNumberStaysWhole() {
        // 5 kg to lose at 1 kg a week: exactly 35 days.
        let whole = GoalProgress(
            goal: goal(target: 70, start: 80), display: .kg, days: level(75), weeklyRate: -1, exactRate: -1)
        #expect(whole.projectedDate == latest.adding(days: 35) && whole.state == .onTrack)
        // At 1.5 kg a week: 23.33 days, so 24.
        let part = GoalProgress(
            goal: goal(target: 70, start: 80, by: latest.adding(days: 23)), display: .kg, days: level(75),
            weeklyRate: Decimal(string: "-1.5")!, exactRate: -1.5)
        #expect(part.projectedDate == latest.adding(days: 24) && part.state == .behind)
        let onTime = GoalProgress(
            goal: goal(target: 70, start: 80, by: latest.adding(days: 24)), display: .kg, days: level(75),
            weeklyRate: Decimal(string: "-1.5")!, exactRate: -1.5)
        #expect(onTime.state == .onTrack)
    }

    @Test func aProjectionPastTheLastDateHasNoDate() {
        // 2203 lb to gain at 0.005 lb a week (answered as 0.01): 3 084 200 days, past 9999-12-31.
        let far = GoalProgress(
            goal: goal(target: 2204, start: 1, unit: .lb), display: .lb, days: level(1),
            weeklyRate: Decimal(string: "0.01")!, exactRate: 0.005)
        #expect(far.projectedDate == nil && far.state == .onTrack)
        let due = GoalProgress(
            goal: goal(target: 2204, start: 1, unit: .lb, by: latest.adding(days: 400)), display: .lb, days: level(1),
            weeklyRate: Decimal(string: "0.01")!, exactRate: 0.005)
        #expect(due.projectedDate == nil && due.state == .behind)
    }
}
