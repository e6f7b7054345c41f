import Foundation
import Primitives
import Testing

@testable import WeighinService

/// The trend recurrences and the t quantile, against hand-computed cases and published tables.
@Suite("Service: smoothing and Student's t")
struct SmoothingTests {
    let start = CalendarDate(year: 2026, month: 1, day: 1)!

    func points(_ values: [(Int, Double)]) -> [DayValue] {
        values.map { DayValue(day: start.adding(days: $0.0), value: $0.1) }
    }

    func close(_ a: [Double], _ b: [Double], within tolerance: Double = 1e-9) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
    }

    @Test func emaOnConsecutiveDays() {
        // a1 = 80; a2 = 80 + 0.1·(81 − 80) = 80.1; a3 = 80.1 + 0.1·(79 − 80.1) = 79.99
        #expect(close(Smoothing.ema(points([(0, 80), (1, 81), (2, 79)]), alpha: 0.1), [80, 80.1, 79.99]))
    }

    @Test func emaWeighsAGapAsThatManySingleDays() {
        // Gap 2: 1 − 0.9² = 0.19; gap 10: 1 − 0.9¹⁰ = 0.6513215599.
        let two = Smoothing.ema(points([(0, 80), (2, 90)]), alpha: 0.1)
        #expect(close(two, [80, 81.9]))
        let ten = Smoothing.ema(points([(0, 80), (10, 90)]), alpha: 0.1)
        #expect(close(ten, [80, 80 + 10 * (1 - pow(0.9, 10))]))
        #expect(abs(ten[1] - 86.513215599) < 1e-9)
        // The same as ten single days with the same reading.
        var daily = [80.0]
        for _ in 1...10 { daily.append(daily.last! + 0.1 * (90 - daily.last!)) }
        #expect(abs(ten[1] - daily.last!) < 1e-9)
    }

    @Test func alphaOneFollowsTheReadingsAndASinglePointIsItself() {
        #expect(close(Smoothing.ema(points([(0, 80), (1, 81), (5, 79)]), alpha: 1), [80, 81, 79]))
        #expect(close(Smoothing.holt(points([(0, 80), (1, 81), (5, 79)]), alpha: 1, beta: 0.5), [80, 81, 79]))
        #expect(Smoothing.ema(points([(0, 72.5)]), alpha: 0.1) == [72.5])
        #expect(Smoothing.holt(points([(0, 72.5)]), alpha: 0.1, beta: 0.1) == [72.5])
        #expect(Smoothing.ema([], alpha: 0.1).isEmpty)
    }

    @Test func aConstantSeriesStaysConstant() {
        let constant = points((0..<30).map { ($0 * 2, 75.0) })
        #expect(Smoothing.ema(constant, alpha: 0.3).allSatisfy { abs($0 - 75) < 1e-12 })
        #expect(Smoothing.holt(constant, alpha: 0.3, beta: 0.2).allSatisfy { abs($0 - 75) < 1e-12 })
    }

    @Test func holtOnConsecutiveDaysAndOverAGap() {
        // l1 = 80, b1 = 0; l2 = .1·81 + .9·80 = 80.1, b2 = .1·0.1 = 0.01; l3 = .1·79 + .9·(80.1 + 0.01) = 79.999
        #expect(close(Smoothing.holt(points([(0, 80), (1, 81), (2, 79)]), alpha: 0.1, beta: 0.1), [80, 80.1, 79.999]))
        // Gap 2 after a slope: l1 = 80; l2 (gap 1) = .5·82 + .5·80 = 81, b2 = .5·1 = 0.5;
        // l3 (gap 2) = .5·84 + .5·(81 + 2·0.5) = 83, b3 = .5·(83 − 81)/2 + .5·0.5 = 0.75.
        #expect(close(Smoothing.holt(points([(0, 80), (1, 82), (3, 84)]), alpha: 0.5, beta: 0.5), [80, 81, 83]))
    }

    @Test func roundingIsHalfAwayFromZeroToHundredths() {
        #expect(Smoothing.rounded(79.999) == Decimal(string: "80")!)
        #expect(Smoothing.rounded(80.125) == Decimal(string: "80.13")!)
        #expect(Smoothing.rounded(-1.005000001) == Decimal(string: "-1.01")!)
        #expect(Smoothing.rounded(0.004) == 0)
        // What the JSON writer prints: no trailing zeros, no negative zero.
        #expect(Smoothing.rounded(70.5).plainText == "70.5")
        #expect(Smoothing.rounded(80.0001).plainText == "80")
        #expect(Smoothing.rounded(-0.001).plainText == "0")
        #expect(Smoothing.rounded(-12.3456).plainText == "-12.35")
        #expect(Smoothing.rounded(99.95, places: 1).plainText == "100")
    }

    /// Published two-sided 95 % values (t 0.975): e.g. NIST/SEMATECH e-Handbook, table of upper critical values.
    @Test(arguments: [
        (1, 12.706), (2, 4.303), (3, 3.182), (4, 2.776), (5, 2.571), (10, 2.228), (20, 2.086), (30, 2.042),
        (60, 2.000), (100, 1.984), (1000, 1.962),
    ])
    func theTQuantileMatchesTheTables(_ degrees: Int, _ published: Double) {
        #expect(abs(StudentT.quantile(0.975, degrees: degrees) - published) < 0.0006, "df \(degrees)")
    }

    @Test func theTQuantileTendsToTheNormalOne() {
        #expect(abs(StudentT.quantile(0.975, degrees: 1_000_000) - 1.959964) < 1e-5)
        #expect(abs(StudentT.quantile(0.95, degrees: 10) - 1.812461) < 1e-5)
        #expect(abs(StudentT.quantile(0.975, degrees: 1) - 12.706205) < 1e-5)
    }
}
