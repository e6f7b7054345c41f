import Foundation
import Primitives

extension GoalProgress {
    /// Slack for comparing floating-point results with exact values: far below the 0.01 the answers show, far above
    /// the rounding error of folding a lifetime of days.
    static let tolerance = 1e-9

    /// The contract's progress rules, applied to the goal, the user's daily means in `display` (oldest first) and
    /// the weekly rate (as answered, rounded to 2 decimals, and exact).
    ///
    /// `current` is the `ema` average on the latest day; the state is `reached` once current is at or past the
    /// target, `not_enough_data` without a rate, `wrong_direction` when the rate (as answered) is zero or points
    /// away, else `on_track` or `behind` by the projected date against the target date.
    init(goal: Goal, display: WeightUnit, days: [DayValue], weeklyRate: Decimal?, exactRate: Double?) {
        self.goal = goal
        self.weeklyRate = weeklyRate
        let target = StatisticsService.double(goal.target.converted(to: display))
        let start = StatisticsService.double(goal.start.converted(to: display))
        let direction = goal.direction
        guard let latest = days.last else {
            (current, remaining, percentComplete, projectedDate, state) = (nil, nil, nil, nil, .notEnoughData)
            return
        }
        let smoothed = Smoothing.ema(days, alpha: StatisticsService.double(GoalService.currentSmoothing)).last!
        let left = target - smoothed
        current = Smoothing.rounded(smoothed)
        remaining = Smoothing.rounded(left)
        percentComplete = Smoothing.rounded(min(100, max(0, 100 * (start - smoothed) / (start - target))), places: 1)
        let reached = direction == .lose ? smoothed <= target + Self.tolerance : smoothed >= target - Self.tolerance
        guard !reached else {
            (projectedDate, state) = (nil, .reached)
            return
        }
        guard let weeklyRate, let rate = exactRate else {
            (projectedDate, state) = (nil, .notEnoughData)
            return
        }
        let towards = direction == .lose ? rate < 0 : rate > 0
        guard weeklyRate != 0, towards else {
            (projectedDate, state) = (nil, .wrongDirection)
            return
        }
        // ⌈remaining / weekly_rate × 7⌉ days after the latest day; a result a hair above a whole number is that
        // number. A projection past the last day a date holds (9999-12-31) has no date: it is behind any target.
        let days = (left / rate * 7 - Self.tolerance).rounded(.up)
        let last = DateRange().upperBound
        if days <= Double(last.daysSinceEpoch - latest.day.daysSinceEpoch) {
            let projected = latest.day.adding(days: Int(days))
            projectedDate = projected
            state = goal.targetDate.map { projected <= $0 } ?? true ? .onTrack : .behind
        } else {
            projectedDate = nil
            state = goal.targetDate == nil ? .onTrack : .behind
        }
    }
}
