import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// `daily=all|first|last|min|max|mean` on statistics and trend, against figures computed by hand.
///
/// Day 2021-12-01: A 80 kg at 07:00+01:00, B 78.5 kg at 20:00+01:00, C 79 kg (no time), D 176 lb (no time, created
/// after C); within the day A < B < C < D (no time counts as later, then created_at). Day 2021-12-03: E 78.2 kg (no
/// time), F 77.9 kg at 07:00+01:00; F < E.
@Suite("HTTP: daily values of statistics and trend")
struct DailyValueRouteTests {
    func withReadings(_ body: @Sendable (any TestClientProtocol, String) async throws -> Void) async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            for reading in [
                #"{"weight": 80, "unit": "kg", "measured_at": "2021-12-01T07:00:00+01:00"}"#,
                #"{"weight": 78.5, "unit": "kg", "measured_at": "2021-12-01T20:00:00+01:00"}"#,
                #"{"weight": 79, "unit": "kg", "recorded_on": "2021-12-01"}"#,
                #"{"weight": 176, "unit": "lb", "recorded_on": "2021-12-01"}"#,
                #"{"weight": 78.2, "unit": "kg", "recorded_on": "2021-12-03"}"#,
                #"{"weight": 77.9, "unit": "kg", "measured_at": "2021-12-03T07:00:00+01:00"}"#,
            ] {
                let response = try await client.send(.post, "/v1/entries", token: user.token, json: reading)
                #expect(response.status == .created, "\(response.text)")
            }
            try await body(client, user.token)
        }
    }

    /// The figures of `GET /v1/stats?daily=…` in kg: count, min, max, mean, first and latest weight, change, rate.
    static let expected: [(String, [String])] = [
        ("all", ["6", "77.9", "80", "78.91", "80", "78.2", "-1.8", "-4.49"]),
        ("first", ["2", "77.9", "80", "78.95", "80", "77.9", "-2.1", "-7.35"]),
        ("last", ["2", "78.2", "79.83", "79.02", "79.83", "78.2", "-1.63", "-5.71"]),
        ("min", ["2", "77.9", "78.5", "78.2", "78.5", "77.9", "-0.6", "-2.1"]),
        ("max", ["2", "78.2", "80", "79.1", "80", "78.2", "-1.8", "-6.3"]),
        ("mean", ["2", "78.05", "79.33", "78.69", "79.33", "78.05", "-1.28", "-4.49"]),
    ]

    @Test func statisticsUseEveryEntryOrOneValuePerDay() async throws {
        try await withReadings { client, token in
            for (daily, figures) in Self.expected {
                let query = daily == "all" ? "" : "?daily=\(daily)"
                let stats = try await client.send(.get, "/v1/stats" + query, token: token).json
                #expect(stats["daily"]?.stringValue == daily)
                let seen = [
                    stats["count"], stats["min"], stats["max"], stats["mean"], stats["first"]?["weight"],
                    stats["latest"]?["weight"], stats["change"], stats["weekly_rate"],
                ].map { $0?.decimal }
                #expect(seen == figures.map { dec($0) }, "daily=\(daily): \(stats)")
                #expect(stats["first"]?["recorded_on"]?.stringValue == "2021-12-01", "\(daily)")
                #expect(stats["latest"]?["recorded_on"]?.stringValue == "2021-12-03", "\(daily)")
            }
        }
    }

    @Test func anEntryChosenForItsDayIsShownExactlyInItsOwnUnit() async throws {
        try await withReadings { client, token in
            let stats = try await client.send(.get, "/v1/stats?daily=last&unit=lb", token: token).json
            #expect(stats["first"]?["weight"]?.decimal == dec("176"), "D, entered in lb, exactly")
            #expect(stats["latest"]?["weight"]?.decimal == dec("172.4"))
        }
    }

    @Test func trendsTakeOneValuePerDayTheMeanByDefault() async throws {
        try await withReadings { client, token in
            let byDefault = try await client.send(.get, "/v1/trend?window=3", token: token).json
            #expect(byDefault["daily"]?.stringValue == "mean" && byDefault["method"]?.stringValue == "window")
            let points = byDefault["points"]?.arrayValue ?? []
            #expect(points.map { $0["weight"]?.decimal } == [dec("79.33"), dec("78.05")])
            #expect(points.map { $0["average"]?.decimal } == [dec("79.33"), dec("78.69")])
            for (daily, first, last, average) in [
                ("first", "80", "77.9", "78.95"), ("last", "79.83", "78.2", "79.02"), ("min", "78.5", "77.9", "78.2"),
                ("max", "80", "78.2", "79.1"),
            ] {
                let trend = try await client.send(.get, "/v1/trend?window=3&daily=\(daily)", token: token).json
                let points = trend["points"]?.arrayValue ?? []
                #expect(points.map { $0["weight"]?.decimal } == [dec(first), dec(last)], "\(daily)")
                #expect(points.last?["average"]?.decimal == dec(average), "\(daily)")
                let narrow = try await client.send(.get, "/v1/trend?window=2&daily=\(daily)", token: token).json
                #expect(narrow["points"]?.arrayValue?.last?["average"]?.decimal == dec(last), "the 2nd is not in 2 days")
            }
        }
    }

    @Test func otherChoicesAreRefusedNamingDaily() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            for uri in ["/v1/stats?daily=median", "/v1/stats?daily=ALL", "/v1/trend?daily=all", "/v1/trend?daily=",
                        "/v1/trend?daily=median&window=0"] {
                expectValidation(try await client.send(.get, uri, token: user.token), field: "daily", uri)
            }
        }
    }
}
