import Foundation
import Postgres
import Primitives
import Testing

@testable import WeighinService

/// Statistics and trend from the service itself, against hand-computed figures (entered in kg and lb, shown in
/// both; several entries on one day; a gap).
@Suite("Service: statistics and trend")
struct StatisticsServiceTests {
    /// Services on a fresh database, a user with four entries over four days (two on the second), and the user.
    func withEntries(_ body: (WeighinServices, Authentication) async throws -> Void) async throws {
        let pool = PostgresPool(configuration: .init(connection: try PostgresConfiguration(
            conninfo: try await TestCluster.makeDatabase()), size: 2))
        defer { pool.close() }
        let services = try await WeighinServices(pool: pool, configuration: TestApp.service)
        let email = "stats-\(UUID().uuidString.prefix(8))@example.com"
        _ = try await services.accounts.register(Registration(email: email, name: "Stats", password: "correct horse"))
        let token = try await services.accounts.logIn(email: email, password: "correct horse").token
        let auth = try await services.tokens.authenticate(token)
        let start = CalendarDate(year: 2026, month: 1, day: 1)!
        for (day, weight, unit) in [(0, "80", WeightUnit.kg), (1, "79.5", .kg), (1, "176", .lb), (3, "78", .kg)] {
            let draft = try services.entries.validate(
                NewEntry(weight: Decimal(exactText: weight.utf8), unit: unit, recordedOn: start.adding(days: day)),
                display: .kg)
            _ = try await services.entries.create(auth, draft)
        }
        try await body(services, auth)
    }

    func d(_ text: String) -> Decimal { Decimal(exactText: text.utf8)! }

    @Test func summaryInKilograms() async throws {
        try await withEntries { services, auth in
            let stats = try await services.statistics.statistics(auth, range: DateRange(), unit: .kg, daily: .all)
            #expect(stats.count == 4)
            #expect(stats.min == d("78") && stats.max == d("80") && stats.mean == d("79.33"))
            #expect(stats.first == .init(recordedOn: CalendarDate(year: 2026, month: 1, day: 1)!, weight: d("80")))
            #expect(stats.latest?.weight == d("78") && stats.change == d("-2"))
            // Least-squares slope over (day, weight) of all four entries, times 7.
            #expect(stats.weeklyRate == d("-4.91"))
        }
    }

    @Test func summaryInPoundsConvertsExactlyAndRoundsAtTheEnd() async throws {
        try await withEntries { services, auth in
            let stats = try await services.statistics.statistics(auth, range: DateRange(), unit: .lb, daily: .all)
            #expect(stats.min == d("171.96") && stats.max == d("176.37") && stats.mean == d("174.9"))
            #expect(stats.first?.weight == d("176.37") && stats.latest?.weight == d("171.96"))
            #expect(stats.change == d("-4.41") && stats.weeklyRate == d("-10.83"))
        }
    }

    @Test func aRangeSelectsDaysAndAnEmptyOneHasNoFigures() async throws {
        try await withEntries { services, auth in
            let second = CalendarDate(year: 2026, month: 1, day: 2)!
            let oneDay = try await services.statistics.statistics(
                auth, range: DateRange(from: second, to: second), unit: .kg, daily: .all)
            #expect(oneDay.count == 2 && oneDay.weeklyRate == nil, "two entries on one day: no rate")
            let empty = try await services.statistics.statistics(
                auth, range: DateRange(from: second.adding(days: 10), to: nil), unit: .kg, daily: .all)
            #expect(empty.count == 0 && empty.mean == nil && empty.first == nil && empty.weeklyRate == nil)
        }
    }

    @Test func trendAveragesDailyMeansOverTheWindowLookingBackBeforeFrom() async throws {
        try await withEntries { services, auth in
            let all = try await services.statistics.trend(auth, range: DateRange(), unit: .kg, daily: .mean, method: .window(days: 2))
            #expect(all.map(\.weight) == [d("80"), d("79.67"), d("78")])
            #expect(all.map(\.average) == [d("80"), d("79.83"), d("78")], "day 4's window (days 3-4) holds day 4 only")
            let fromDay4 = try await services.statistics.trend(
                auth, range: DateRange(from: CalendarDate(year: 2026, month: 1, day: 4), to: nil), unit: .kg, daily: .mean,
                method: .window(days: 3))
            #expect(fromDay4.map(\.average) == [d("78.83")], "days 2-4, reaching before from")
        }
    }
}
