import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import WireFormats

@testable import WeighinService

/// `GET /v1/trend?method=ema|holt` and the weekly rate's confidence interval on `GET /v1/stats`.
@Suite("HTTP: trend methods and the rate's uncertainty")
struct TrendMethodRouteTests {
    struct Point: Equatable, CustomStringConvertible {
        let date: String
        let weight: Decimal
        let average: Decimal
        var description: String { "\(date) \(weight) \(average)" }
    }

    func points(_ trend: JSONValue) -> [Point] {
        (trend["points"]?.arrayValue ?? []).map { (point: JSONValue) -> Point in
            let date = point["date"]?.stringValue ?? ""
            let weight: Decimal = point["weight"]?.decimal ?? -1
            let average: Decimal = point["average"]?.decimal ?? -1
            return Point(date: date, weight: weight, average: average)
        }
    }

    @Test func emaAndHoltOverGapsOfOneTwoAndTenDays() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            // Days 0, 1, 3 and 13: gaps of 1, 2 and 10 days.
            for (day, weight) in [("2013-03-01", "80"), ("2013-03-02", "82"), ("2013-03-04", "78"), ("2013-03-14", "90")] {
                try await client.createEntry(user.token, weight: weight, recordedOn: day)
            }
            let ema = try await client.send(.get, "/v1/trend?method=ema&smoothing=0.5", token: user.token).json
            #expect(ema.keys == ["unit", "method", "daily", "smoothing", "points"])
            #expect(ema["method"]?.stringValue == "ema" && ema["smoothing"]?.decimal == dec("0.5"))
            // a = 80; 80 + 0.5·2 = 81; 81 + 0.75·(78 − 81) = 78.75; 78.75 + (1 − 0.5¹⁰)·11.25 = 89.989013671875
            #expect(points(ema) == [
                Point(date: "2013-03-01", weight: 80, average: 80), Point(date: "2013-03-02", weight: 82, average: 81),
                Point(date: "2013-03-04", weight: 78, average: dec("78.75")),
                Point(date: "2013-03-14", weight: 90, average: dec("89.99")),
            ])
            let holt = try await client.send(
                .get, "/v1/trend?method=holt&smoothing=0.5&slope_smoothing=0.5", token: user.token).json
            #expect(holt.keys == ["unit", "method", "daily", "smoothing", "slope_smoothing", "points"])
            // ℓ 80, b 0; ℓ = .5·82 + .5·80 = 81, b = .5·1 = 0.5; gap 2: ℓ = .5·78 + .5·(81 + 1) = 80,
            // b = .5·(−1/2) + .5·0.5 = 0; gap 10: ℓ = .5·90 + .5·80 = 85.
            #expect(points(holt).map(\.average) == [80, 81, 80, 85])
            // The defaults: α = β = 0.1.
            let defaults = try await client.send(.get, "/v1/trend?method=holt", token: user.token).json
            #expect(defaults["smoothing"]?.decimal == dec("0.1") && defaults["slope_smoothing"]?.decimal == dec("0.1"))
        }
    }

    @Test func smoothingStartsNinetyDaysBeforeFrom() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            // 2013-01-01 is 91 days before 2013-04-02 (outside the run-in); 2013-01-02 is 90 days before (inside).
            for (day, weight) in [("2013-01-01", "60"), ("2013-01-02", "100"), ("2013-04-02", "80"), ("2013-04-03", "80")] {
                try await client.createEntry(user.token, weight: weight, recordedOn: day)
            }
            let trend = try await client.send(
                .get, "/v1/trend?method=ema&smoothing=0.01&from=2013-04-02&to=2013-04-02", token: user.token).json
            // Starts at 100 on 2013-01-02; 90 days later: 100 + (1 − 0.99⁹⁰)·(80 − 100) = 91.9025...
            let expected: Double = 100 - 20 * (1 - Foundation.pow(0.99, 90.0))
            #expect(points(trend) == [Point(date: "2013-04-02", weight: 80, average: Smoothing.rounded(expected))])
            // Without `from`, the whole history: 60, then 100 one day later...
            let whole = try await client.send(.get, "/v1/trend?method=ema&smoothing=0.01", token: user.token).json
            #expect(points(whole).first == Point(date: "2013-01-01", weight: 60, average: 60))
            #expect(points(whole).count == 4)
        }
    }

    @Test func theDailyChoiceAndTheDisplayUnitApply() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser(weightUnit: "lb")
            for (day, weight, unit) in [("2013-05-01", "80", "kg"), ("2013-05-01", "180", "lb"), ("2013-05-02", "81", "kg")] {
                try await client.createEntry(user.token, weight: weight, unit: unit, recordedOn: day)
            }
            let trend = try await client.send(.get, "/v1/trend?method=ema&daily=max&smoothing=1", token: user.token).json
            #expect(trend["unit"]?.stringValue == "lb" && trend["daily"]?.stringValue == "max")
            let first = shown("80", "kg", in: "lb")  // 176.37 lb < 180 lb
            #expect(first < 180)
            #expect(points(trend) == [
                Point(date: "2013-05-01", weight: 180, average: 180),
                Point(date: "2013-05-02", weight: shown("81", "kg", in: "lb"), average: shown("81", "kg", in: "lb")),
            ])
        }
    }

    @Test func parametersOutOfRangeAreRefusedNamingThem() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            for (query, field) in [
                ("method=ema&smoothing=0", "smoothing"), ("method=ema&smoothing=1.01", "smoothing"),
                ("method=ema&smoothing=0.009", "smoothing"), ("method=ema&smoothing=abc", "smoothing"),
                ("method=ema&smoothing=NaN", "smoothing"), ("method=holt&slope_smoothing=0", "slope_smoothing"),
                ("method=holt&smoothing=2&slope_smoothing=2", "slope_smoothing"), ("method=median", "method"),
                ("method=EMA", "method"), ("method=ema&daily=all", "daily"), ("method=window&window=0", "window"),
                // A parameter of another method is not used, but checked all the same (the document's ranges hold).
                ("smoothing=2", "smoothing"), ("method=window&slope_smoothing=0", "slope_smoothing"),
                ("method=ema&window=0", "window"), ("method=ema&slope_smoothing=2", "slope_smoothing"),
            ] {
                expectValidation(try await client.send(.get, "/v1/trend?" + query, token: user.token), field: field, query)
            }
            // The edges are allowed, written any way that is exact.
            for query in ["method=ema&smoothing=0.01", "method=ema&smoothing=1", "method=holt&smoothing=1.0&slope_smoothing=1e-2"] {
                #expect(try await client.send(.get, "/v1/trend?" + query, token: user.token).status == .ok, "\(query)")
            }
        }
    }

    @Test func theWeeklyRatesConfidenceInterval() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let stats = { (query: String) async throws -> JSONValue in
                try await client.send(.get, "/v1/stats" + query, token: user.token).json
            }
            try await client.createEntry(user.token, weight: "80", recordedOn: "2014-01-01")
            #expect(try await stats("")["weekly_rate_ci95"] == .null)
            try await client.createEntry(user.token, weight: "79.5", recordedOn: "2014-01-02")
            try await client.createEntry(user.token, weight: "79.6", recordedOn: "2014-01-02")
            // Three entries but two distinct days: no interval.
            let two = try await stats("")
            #expect(two["weekly_rate"] != .null && two["weekly_rate_ci95"] == .null, "\(two)")
            try await client.createEntry(user.token, weight: "79.4", recordedOn: "2014-01-03")
            try await client.createEntry(user.token, weight: "78.7", recordedOn: "2014-01-04")
            // daily=first: 80, 79.5, 79.4, 78.7 on days 0..3: slope −0.4/day (rate −2.8), residuals 0, −0.1, 0.2,
            // −0.1 (SSE 0.06), se = √(0.06 / 2 / 5) = 0.0774597, t₀.₉₇₅,₂ = 4.302653: −2.8 ± 7 · 0.3332830
            // = [−5.13, −0.47].
            let first = try await stats("?daily=first")
            #expect(first["weekly_rate"]?.decimal == dec("-2.8"))
            #expect(first["weekly_rate_ci95"]?.arrayValue?.map(\.decimal) == [dec("-5.13"), dec("-0.47")], "\(first)")
            // A perfect line has no uncertainty.
            let line = try await client.newUser()
            for (offset, weight) in ["90", "89.5", "89", "88.5"].enumerated() {
                try await client.createEntry(line.token, weight: weight, recordedOn: dayAfter("2014-01-01", offset))
            }
            let exact = try await client.send(.get, "/v1/stats", token: line.token).json
            #expect(exact["weekly_rate_ci95"]?.arrayValue?.map(\.decimal) == [dec("-3.5"), dec("-3.5")], "\(exact)")
        }
    }
}
