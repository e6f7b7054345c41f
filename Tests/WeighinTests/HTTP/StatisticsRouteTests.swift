import Foundation
import HTTPTypes
import HummingbirdTesting
import Postgres
import Testing
import WireFormats

/// HTTP: GET /v1/stats and GET /v1/trend, compared with values computed here exactly as the contract describes.
@Suite("HTTP: statistics and trend")
struct StatisticsRouteTests {
    typealias Sample = (day: String, weight: String, unit: String)

    /// Kilograms and pounds mixed, ties on the first and last day, several entries on some days; created in this order.
    static let samples: [Sample] = [
        ("2024-02-20", "81.2", "kg"), ("2024-03-01", "80.00", "kg"), ("2024-03-01", "176.5", "lb"),
        ("2024-03-03", "79.45", "kg"), ("2024-03-06", "174.9", "lb"), ("2024-03-06", "79.1", "kg"),
        ("2024-03-10", "173.3", "lb"), ("2024-03-10", "78.95", "kg"),
    ]

    struct Expected {
        var count = 0
        var min: Decimal?, max: Decimal?, mean: Decimal?, change: Decimal?, weeklyRate: Decimal?
        var first: (day: String, weight: Decimal)?, latest: (day: String, weight: Decimal)?
        /// The exact values before rounding, to check none sits on a rounding tie.
        var exact: [Decimal] = []
    }

    /// The contract's statistics: exact conversion, first/latest by day then creation, change = latest − first
    /// exactly, least-squares slope × 7 over every entry, rounded half away from zero to 2 decimals at the end.
    static func expected(_ samples: [Sample], in unit: String, from: String? = nil, to: String? = nil) -> Expected {
        let chosen = samples.enumerated().filter { item in
            (from.map { item.element.day >= $0 } ?? true) && (to.map { item.element.day <= $0 } ?? true)
        }
        guard !chosen.isEmpty else { return Expected() }
        let weights = chosen.map { converted(dec($0.element.weight), from: $0.element.unit, to: unit) }
        let n = Decimal(chosen.count)
        let sum = weights.reduce(0, +)
        let order = chosen.indices.sorted { (chosen[$0].element.day, chosen[$0].offset) < (chosen[$1].element.day, chosen[$1].offset) }
        let (firstIndex, latestIndex) = (order.first!, order.last!)
        var result = Expected()
        result.count = chosen.count
        let minimum = weights.min()!, maximum = weights.max()!, mean = sum / n
        let change = weights[latestIndex] - weights[firstIndex]
        result.exact = [minimum, maximum, mean, change]
        result.min = round2(minimum)
        result.max = round2(maximum)
        result.mean = round2(mean)
        result.change = round2(change)
        let first = chosen[firstIndex].element, latest = chosen[latestIndex].element
        result.first = (first.day, shown(first.weight, first.unit, in: unit))
        result.latest = (latest.day, shown(latest.weight, latest.unit, in: unit))
        if Set(chosen.map(\.element.day)).count >= 2 {
            let origin = chosen.map(\.element.day).min()!
            let x = chosen.map { Decimal(daysBetween(origin, $0.element.day)) }
            let sx = x.reduce(0, +), sxx = x.map { $0 * $0 }.reduce(0, +)
            let sxy = zip(x, weights).map { $0 * $1 }.reduce(0, +)
            let slope = (n * sxy - sx * sum) / (n * sxx - sx * sx)
            result.weeklyRate = round2(slope * 7)
            result.exact.append(slope * 7)
        }
        return result
    }

    /// The contract's trend: one point per day with entries in range, that day's mean, and the mean of the daily means
    /// within `window` calendar days ending on it (looking back before `from`).
    static func expectedTrend(_ samples: [Sample], in unit: String, from: String? = nil, to: String? = nil, window: Int)
        -> (points: [(day: String, weight: Decimal, average: Decimal)], exact: [Decimal])
    {
        var byDay: [String: [Decimal]] = [:]
        for sample in samples { byDay[sample.day, default: []].append(converted(dec(sample.weight), from: sample.unit, to: unit)) }
        let dailyMean = byDay.mapValues { $0.reduce(0, +) / Decimal($0.count) }
        var points: [(String, Decimal, Decimal)] = []
        var exact: [Decimal] = []
        for day in dailyMean.keys.sorted() where (from.map { day >= $0 } ?? true) && (to.map { day <= $0 } ?? true) {
            let start = dayAfter(day, -(window - 1))
            let inWindow = dailyMean.filter { $0.key >= start && $0.key <= day }.map(\.value)
            let average = inWindow.reduce(0, +) / Decimal(inWindow.count)
            points.append((day, round2(dailyMean[day]!), round2(average)))
            exact += [dailyMean[day]!, average]
        }
        return (points, exact)
    }

    static func checkStatistics(
        _ answer: JSONValue, _ expected: Expected, unit: String, _ label: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(answer.keys == ["unit", "daily", "count", "min", "max", "mean", "first", "latest", "change", "weekly_rate",
                                "weekly_rate_ci95"],
                "\(label): \(answer)", sourceLocation: sourceLocation)
        // The interval holds the rate (TrendMethodRouteTests checks its figures).
        if let interval = answer["weekly_rate_ci95"]?.arrayValue, let rate = answer["weekly_rate"]?.decimal {
            let bounds = interval.compactMap(\.decimal)
            #expect(bounds.count == 2 && bounds[0] <= rate && rate <= bounds[1], "\(label): \(answer)",
                    sourceLocation: sourceLocation)
        } else {
            #expect(answer["weekly_rate_ci95"] == .null, "\(label): \(answer)", sourceLocation: sourceLocation)
        }
        #expect(answer["unit"]?.stringValue == unit, "\(label)", sourceLocation: sourceLocation)
        #expect(answer["count"]?.intValue == expected.count, "\(label)", sourceLocation: sourceLocation)
        for (member, value) in [("min", expected.min), ("max", expected.max), ("mean", expected.mean), ("change", expected.change),
                                ("weekly_rate", expected.weeklyRate)] {
            if let value {
                #expect(answer[member]?.decimal == value, "\(label) \(member): \(answer[member].map { "\($0)" } ?? "missing") ≠ \(value)",
                        sourceLocation: sourceLocation)
            } else {
                #expect(answer[member] == .null, "\(label) \(member) should be null", sourceLocation: sourceLocation)
            }
        }
        for (member, point) in [("first", expected.first), ("latest", expected.latest)] {
            if let point {
                #expect(answer[member]?.keys == ["recorded_on", "weight"], "\(label) \(member)", sourceLocation: sourceLocation)
                #expect(answer[member]?["recorded_on"]?.stringValue == point.day, "\(label) \(member)", sourceLocation: sourceLocation)
                #expect(answer[member]?["weight"]?.decimal == point.weight,
                        "\(label) \(member): \(answer[member].map { "\($0)" } ?? "missing") ≠ \(point.weight)",
                        sourceLocation: sourceLocation)
            } else {
                #expect(answer[member] == .null, "\(label) \(member) should be null", sourceLocation: sourceLocation)
            }
        }
    }

    static func seed(_ client: some TestClientProtocol, _ token: String) async throws {
        for sample in samples {
            try await client.createEntry(token, weight: sample.weight, unit: sample.unit, recordedOn: sample.day)
        }
    }

    @Test func statisticsAreExactInKgAndLb() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser(weightUnit: "kg")
            try await Self.seed(client, user.token)
            let cases: [(query: String, unit: String, from: String?, to: String?)] = [
                ("", "kg", nil, nil), ("?unit=kg", "kg", nil, nil), ("?unit=lb", "lb", nil, nil), ("?unit=lbs", "lb", nil, nil),
                ("?from=2024-03-01", "kg", "2024-03-01", nil), ("?from=2024-03-01&unit=lb", "lb", "2024-03-01", nil),
                ("?from=2024-03-03&to=2024-03-06", "kg", "2024-03-03", "2024-03-06"),
                ("?from=2024-03-03&to=2024-03-06&unit=lb", "lb", "2024-03-03", "2024-03-06"),
                ("?to=2024-03-03&unit=lb", "lb", nil, "2024-03-03"),
                ("?from=2024-03-01&to=2024-03-01", "kg", "2024-03-01", "2024-03-01"),
                ("?from=2024-03-01&to=2024-03-01&unit=lb", "lb", "2024-03-01", "2024-03-01"),
                ("?from=2024-03-03&to=2024-03-03", "kg", "2024-03-03", "2024-03-03"),
                ("?from=2024-03-10&to=2024-03-10&unit=lb", "lb", "2024-03-10", "2024-03-10"),
            ]
            for (query, unit, from, to) in cases {
                let expected = Self.expected(Self.samples, in: unit, from: from, to: to)
                for value in expected.exact { try #require(isFarFromRoundingTie(value), "test data sits on a rounding tie: \(value)") }
                let response = try await client.send(.get, "/v1/stats\(query)", token: user.token)
                #expect(response.status == .ok, "\(query): \(response.text)")
                #expect(response.mediaType == "application/json")
                Self.checkStatistics(response.json, expected, unit: unit, query)
            }
            // The contract's remark holds in this data: change is computed exactly, then rounded, and differs by 0.01
            // from the difference of the two shown weights.
            let lb = Self.expected(Self.samples, in: "lb", from: "2024-03-01")
            #expect(lb.change == dec("-2.31"))
            #expect(lb.latest!.weight - lb.first!.weight == dec("-2.32"))
            // Ties on the first and the last day are broken by creation.
            #expect(lb.first!.weight == shown("80.00", "kg", in: "lb"))
            #expect(lb.latest!.weight == shown("78.95", "kg", in: "lb"))
        }
    }

    @Test func statisticsFollowTheUsersUnitAndNeedTwoDaysForARate() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser(weightUnit: "lb")
            try await Self.seed(client, user.token)
            let all = try await client.send(.get, "/v1/stats", token: user.token)
            Self.checkStatistics(all.json, Self.expected(Self.samples, in: "lb"), unit: "lb", "lb user")
            let oneDay = try await client.send(.get, "/v1/stats?from=2024-03-06&to=2024-03-06", token: user.token).json
            #expect(oneDay["count"]?.intValue == 2)
            #expect(oneDay["weekly_rate"] == .null)
            #expect(oneDay["change"]?.decimal == Self.expected(Self.samples, in: "lb", from: "2024-03-06", to: "2024-03-06").change)
            let single = try await client.send(.get, "/v1/stats?from=2024-02-01&to=2024-02-29", token: user.token).json
            #expect(single["count"]?.intValue == 1)
            #expect(single["change"]?.decimal == 0)
            #expect(single["weekly_rate"] == .null)
            #expect(single["min"]?.decimal == shown("81.2", "kg", in: "lb"))
        }
    }

    @Test func anEmptyRangeHasCountZeroAndNullsEverywhereElse() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let fresh = try await client.send(.get, "/v1/stats", token: user.token)
            #expect(fresh.status == .ok)
            Self.checkStatistics(fresh.json, Expected(), unit: "kg", "no entries at all")
            try await Self.seed(client, user.token)
            let empty = try await client.send(.get, "/v1/stats?from=2023-01-01&to=2023-12-31&unit=lb", token: user.token)
            Self.checkStatistics(empty.json, Expected(), unit: "lb", "empty range")
            let trend = try await client.send(.get, "/v1/trend?from=2023-01-01&to=2023-12-31", token: user.token)
            #expect(trend.json.keys == ["unit", "method", "daily", "window", "points"])
            #expect(trend.json["unit"]?.stringValue == "kg" && trend.json["window"]?.intValue == 7)
            #expect(trend.json["points"] == .array([]))
        }
    }

    @Test func rangeAndUnitErrorsAreAsForListing() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            for path in ["/v1/stats", "/v1/trend"] {
                expectValidation(try await client.send(.get, "\(path)?from=2024-03-02&to=2024-03-01", token: user.token), field: "from")
                for (parameter, value) in [("from", "2024-02-30"), ("to", "2024-13-01"), ("from", "yesterday"), ("to", "2024/03/01"),
                                           ("from", ""), ("unit", "stone"), ("unit", "KG"), ("unit", "")] {
                    let response = try await client.send(.get, path + queryString([parameter: value]), token: user.token)
                    expectValidation(response, field: parameter, "\(path) \(parameter)=\(value)")
                }
            }
        }
    }

    @Test func trendAveragesDailyMeansOverTheWindowLookingBackBeforeFrom() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser(weightUnit: "kg")
            try await Self.seed(client, user.token)
            let cases: [(query: String, unit: String, from: String?, to: String?, window: Int)] = [
                ("", "kg", nil, nil, 7), ("?window=1", "kg", nil, nil, 1), ("?window=2&unit=lb", "lb", nil, nil, 2),
                ("?window=5&from=2024-03-06", "kg", "2024-03-06", nil, 5),
                ("?window=14&from=2024-03-01&unit=lb", "lb", "2024-03-01", nil, 14),
                ("?window=10&from=2024-03-01", "kg", "2024-03-01", nil, 10),
                ("?window=11&from=2024-03-01", "kg", "2024-03-01", nil, 11),
                ("?window=90&unit=lbs", "lb", nil, nil, 90), ("?to=2024-03-06&window=3", "kg", nil, "2024-03-06", 3),
                ("?from=2024-03-02&to=2024-03-09&window=4&unit=lb", "lb", "2024-03-02", "2024-03-09", 4),
            ]
            for (query, unit, from, to, window) in cases {
                let expected = Self.expectedTrend(Self.samples, in: unit, from: from, to: to, window: window)
                for value in expected.exact { try #require(isFarFromRoundingTie(value), "test data sits on a rounding tie: \(value)") }
                let response = try await client.send(.get, "/v1/trend\(query)", token: user.token)
                #expect(response.status == .ok, "\(query): \(response.text)")
                let answer = response.json
                #expect(answer.keys == ["unit", "method", "daily", "window", "points"], "\(query)")
                #expect(answer["unit"]?.stringValue == unit, "\(query)")
                #expect(answer["window"]?.intValue == window, "\(query)")
                let points = answer["points"]?.arrayValue ?? []
                #expect(points.count == expected.points.count, "\(query): \(answer)")
                for (point, want) in zip(points, expected.points) {
                    #expect(point.keys == ["date", "weight", "average"], "\(query)")
                    #expect(point["date"]?.stringValue == want.day, "\(query)")
                    #expect(point["weight"]?.decimal == want.weight, "\(query) \(want.day) weight: \(point) ≠ \(want.weight)")
                    #expect(point["average"]?.decimal == want.average, "\(query) \(want.day) average: \(point) ≠ \(want.average)")
                }
                let days = points.compactMap { $0["date"]?.stringValue }
                #expect(days == days.sorted() && Set(days).count == days.count, "\(query): ascending, one per day")
            }
            // Window 1: the average is the day's mean.
            let single = try await client.send(.get, "/v1/trend?window=1", token: user.token).json
            for point in single["points"]?.arrayValue ?? [] { #expect(point["average"] == point["weight"]) }
        }
    }

    @Test func trendWindowMustBe1To90() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            for window in ["0", "91", "-1", "abc", "7.5", "", "1e1", "1000000000000000000000"] {
                expectValidation(try await client.send(.get, "/v1/trend" + queryString(["window": window]), token: user.token),
                                 field: "window", "window=\(window)")
            }
            for window in ["1", "90"] {
                let response = try await client.send(.get, "/v1/trend?window=\(window)", token: user.token)
                #expect(response.status == .ok)
                #expect(response.json["window"]?.intValue == Int(window))
            }
        }
    }

    @Test func statisticsAndTrendOnALiveServer() async throws {
        try await TestApp.run(.live) { client, _ in
            let user = try await client.newUser(weightUnit: "lb")
            try await Self.seed(client, user.token)
            let stats = try await client.send(.get, "/v1/stats?from=2024-03-01", token: user.token)
            Self.checkStatistics(stats.json, Self.expected(Self.samples, in: "lb", from: "2024-03-01"), unit: "lb", "live")
            let trend = try await client.send(.get, "/v1/trend?unit=kg&window=3", token: user.token).json
            let expected = Self.expectedTrend(Self.samples, in: "kg", window: 3)
            #expect(trend["points"]?.arrayValue?.map { $0["average"]?.decimal } == expected.points.map { $0.average })
            expectValidation(try await client.send(.get, "/v1/trend?window=0", token: user.token), field: "window")
        }
    }
}
