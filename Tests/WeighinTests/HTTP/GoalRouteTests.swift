import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// `PUT/GET/DELETE /v1/goal` and `GET /v1/goal/progress`, against figures computed by hand.
@Suite("HTTP: goals and progress")
struct GoalRouteTests {
    /// Seven days from 2012-06-01, 90 kg falling 0.2 kg a day: a weekly rate of exactly −1.4 kg.
    ///
    /// The `ema` (α 0.1) on 2012-06-07 is 89.6434062 (exactly: 448217031/5000000), so towards 85 kg the remaining
    /// −4.6434062 kg at −1.4 kg a week take 23.217 days: 24 days after 2012-06-07 is 2012-07-01.
    static let falling = (0..<7).map { (dayAfter("2012-06-01", $0), String(format: "%.1f", 90 - 0.2 * Double($0))) }

    func add(_ client: any TestClientProtocol, _ token: String, _ days: [(String, String)], unit: String = "kg")
        async throws
    {
        for (day, weight) in days {
            try await client.createEntry(token, weight: weight, unit: unit, recordedOn: day)
        }
    }

    func put(_ client: any TestClientProtocol, _ token: String, _ body: String, query: String = "") async throws
        -> TestResponse
    {
        try await client.send(.put, "/v1/goal" + query, token: token, json: body)
    }

    @Test func aGoalIsSetReadReplacedAndDeleted() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            expectProblem(try await client.send(.get, "/v1/goal", token: user.token), .notFound, "not_found")
            expectProblem(try await client.send(.delete, "/v1/goal", token: user.token), .notFound, "not_found")
            let created = try await put(
                client, user.token,
                #"{"target_weight": 70.5, "start_weight": 80, "start_date": "2012-01-01", "target_date": "2012-12-31"}"#)
            #expect(created.status == .created, "\(created.text)")
            #expect(created.headers[.cacheControl] == "no-store")
            let goal = created.json
            #expect(Set(goal.objectValue?.keys ?? []) == [
                "target_weight", "unit", "target_date", "start_weight", "start_date", "direction", "created_at",
                "updated_at",
            ])
            #expect(goal["target_weight"]?.decimal == dec("70.5") && goal["start_weight"]?.decimal == 80)
            #expect(goal["unit"]?.stringValue == "kg" && goal["direction"]?.stringValue == "lose")
            #expect(goal["target_date"]?.stringValue == "2012-12-31" && goal["start_date"]?.stringValue == "2012-01-01")
            #expect(goal["created_at"] == goal["updated_at"])
            #expect(try await client.send(.get, "/v1/goal", token: user.token).json == goal)

            let replaced = try await put(
                client, user.token, #"{"target_weight": 90, "start_weight": 80, "start_date": "2012-01-01"}"#)
            #expect(replaced.status == .ok, "\(replaced.text)")
            #expect(replaced.json["direction"]?.stringValue == "gain" && replaced.json["target_date"] == .null)
            #expect(replaced.json["created_at"] == goal["created_at"], "replacing keeps when the goal was first set")
            let updated = try #require(replaced.json["updated_at"]?.stringValue.flatMap(parseTimestamp))
            #expect(updated > parseTimestamp(goal["updated_at"]!.stringValue!)!)

            #expect(try await client.send(.delete, "/v1/goal", token: user.token).status == .noContent)
            expectProblem(try await client.send(.get, "/v1/goal", token: user.token), .notFound, "not_found")
            expectProblem(
                try await client.send(.get, "/v1/goal/progress", token: user.token), .notFound, "not_found")
            // Another user never sees it.
            #expect(try await put(client, user.token, #"{"target_weight": 60, "start_weight": 80, "start_date": "2012-01-01"}"#).status == .created)
            let other = try await client.newUser()
            expectProblem(try await client.send(.get, "/v1/goal", token: other.token), .notFound, "not_found")
            expectProblem(try await client.send(.delete, "/v1/goal", token: other.token), .notFound, "not_found")
            #expect(try await client.send(.get, "/v1/goal", token: user.token).status == .ok)
        }
    }

    @Test func weightsKeepTheirUnitsAndAreShownInTheDisplayUnit() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser(weightUnit: "lb")
            // The start defaults to the latest entry in its own unit (kg); the target is in the display unit (lb).
            try await client.createEntry(user.token, weight: "85.25", unit: "kg", recordedOn: "2012-03-01")
            let goal = try await put(client, user.token, #"{"target_weight": 170}"#)
            #expect(goal.status == .created, "\(goal.text)")
            #expect(goal.json["unit"]?.stringValue == "lb" && goal.json["target_weight"]?.decimal == 170)
            #expect(goal.json["start_weight"]?.decimal == shown("85.25", "kg", in: "lb"))
            let inKg = try await client.send(.get, "/v1/goal?unit=kg", token: user.token).json
            #expect(inKg["start_weight"]?.decimal == dec("85.25"), "exactly as entered in its own unit")
            #expect(inKg["target_weight"]?.decimal == shown("170", "lb", in: "kg"))
            // Changing the display unit changes nothing stored.
            #expect(try await client.send(.patch, "/v1/me", token: user.token, json: #"{"weight_unit": "kg"}"#).status == .ok)
            #expect(try await client.send(.get, "/v1/goal?unit=lb", token: user.token).json == goal.json)
            // `unit` in the body applies to both weights.
            let both = try await put(
                client, user.token, #"{"target_weight": 150, "unit": "lbs", "start_weight": 180.5, "start_date": "2012-03-01"}"#,
                query: "?unit=kg")
            #expect(both.status == .ok)
            #expect(both.json["target_weight"]?.decimal == shown("150", "lb", in: "kg"))
            #expect(both.json["start_weight"]?.decimal == shown("180.5", "lb", in: "kg"))
            #expect(try await client.send(.get, "/v1/goal?unit=lb", token: user.token).json["start_weight"]?.decimal == dec("180.5"))
        }
    }

    @Test func theStartDefaultsToTheLatestEntryInTheListingsOrder() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            expectValidation(try await put(client, user.token, #"{"target_weight": 70}"#), field: "start_weight")
            try await client.createEntry(user.token, weight: "82", recordedOn: "2012-02-05")
            // On the same day an entry without a time counts as later than one with a time.
            let timed = try await client.send(
                .post, "/v1/entries", token: user.token,
                json: #"{"weight": 81, "measured_at": "2012-02-05T23:00:00+01:00"}"#)
            #expect(timed.status == .created)
            try await client.createEntry(user.token, weight: "83", recordedOn: "2012-02-01")
            let goal = try await put(client, user.token, #"{"target_weight": 75, "target_date": "2012-06-01"}"#)
            #expect(goal.status == .created, "\(goal.text)")
            #expect(goal.json["start_weight"]?.decimal == 82 && goal.json["start_date"]?.stringValue == "2012-02-05")
        }
    }

    @Test func badGoalsAreRefusedNamingTheField() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let start = #""start_weight": 80, "start_date": "2012-01-01""#
            let cases: [(String, String)] = [
                ("{\(start)}", "target_weight"),
                (#"{"target_weight": null, \#(start)}"#, "target_weight"),
                (#"{"target_weight": "70", \#(start)}"#, "target_weight"),
                (#"{"target_weight": 0, \#(start)}"#, "target_weight"),
                (#"{"target_weight": 70.123, \#(start)}"#, "target_weight"),
                (#"{"target_weight": 1001, "unit": "kg", \#(start)}"#, "target_weight"),
                (#"{"target_weight": 80, \#(start)}"#, "target_weight"),
                (#"{"target_weight": 80.00, \#(start)}"#, "target_weight"),
                (#"{"target_weight": 70, "unit": "stone", \#(start)}"#, "unit"),
                (#"{"target_weight": 70, "start_weight": 80}"#, "start_date"),
                (#"{"target_weight": 70, "start_date": "2012-01-01"}"#, "start_weight"),
                (#"{"target_weight": 70, "start_weight": -1, "start_date": "2012-01-01"}"#, "start_weight"),
                (#"{"target_weight": 70, "start_weight": 80, "start_date": "2012-02-30"}"#, "start_date"),
                (#"{"target_weight": 70, "start_weight": 80, "start_date": "1899-12-31"}"#, "start_date"),
                (#"{"target_weight": 70, "start_weight": 80, "start_date": "\#(utcDay(3))"}"#, "start_date"),
                (#"{"target_weight": 70, \#(start), "target_date": "2012-01-01"}"#, "target_date"),
                (#"{"target_weight": 70, \#(start), "target_date": "2011-12-31"}"#, "target_date"),
                (#"{"target_weight": 70, \#(start), "target_date": "someday"}"#, "target_date"),
                (#"{"target_weight": 70, \#(start), "target": 60}"#, "target"),
                (#"{"target_weight": 70}"#, "start_weight"),
            ]
            for (body, field) in cases {
                expectValidation(try await put(client, user.token, body), field: field, body)
            }
            expectValidation(
                try await put(client, user.token, #"{"target_weight": 70, \#(start)}"#, query: "?unit=stone"),
                field: "unit")
            expectProblem(try await client.send(.put, "/v1/goal", token: user.token, json: "[1]"), .unprocessableContent)
            expectProblem(try await client.send(.put, "/v1/goal", token: user.token, json: "{"), .badRequest)
            // Every failure is reported at once, and nothing was stored.
            let many = try await put(client, user.token, #"{"target_weight": 0, "start_weight": 80, "target_date": "x"}"#)
            #expect(Set(errorFields(expectValidation(many, field: "target_weight"))) == ["target_weight", "start_date", "target_date"])
            expectProblem(try await client.send(.get, "/v1/goal", token: user.token), .notFound, "not_found")
            // Equal across units counts as equal only when exactly equal: 100 lb is 45.359237 kg, not 45.36 kg.
            #expect(try await put(client, user.token, #"{"target_weight": 45.36, "unit": "kg", "start_weight": 45.36, "start_date": "2012-01-01"}"#).status == .unprocessableContent)
            let close = try await put(client, user.token, #"{"target_weight": 100, "unit": "lb", "start_weight": 100.01, "start_date": "2012-01-01"}"#)
            #expect(close.status == .created && close.json["direction"]?.stringValue == "lose")
            expectUnauthorized(try await client.send(.put, "/v1/goal", json: #"{"target_weight": 70}"#))
            expectUnauthorized(try await client.send(.get, "/v1/goal/progress"))
        }
    }

    @Test func progressOnTrackAndBehindWithTheProjectedDate() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            try await add(client, user.token, Self.falling)
            let set = try await put(
                client, user.token,
                #"{"target_weight": 85, "start_weight": 90, "start_date": "2012-06-01", "target_date": "2012-07-01"}"#)
            #expect(set.status == .created)
            let progress = try await client.send(.get, "/v1/goal/progress", token: user.token)
            #expect(progress.status == .ok && progress.headers[.cacheControl] == "no-store")
            let p = progress.json
            #expect(Set(p.objectValue?.keys ?? []) == [
                "goal", "current", "remaining", "percent_complete", "weekly_rate", "projected_date", "state",
            ])
            #expect(p["goal"] == set.json)
            #expect(p["current"]?.decimal == dec("89.64") && p["remaining"]?.decimal == dec("-4.64"))
            #expect(p["percent_complete"]?.decimal == dec("7.1"), "100 × 0.3565938 / 5 = 7.131876")
            #expect(p["weekly_rate"]?.decimal == dec("-1.4"))
            #expect(p["projected_date"]?.stringValue == "2012-07-01" && p["state"]?.stringValue == "on_track", "\(p)")

            // A target date one day earlier: behind, with the same projection.
            _ = try await put(
                client, user.token,
                #"{"target_weight": 85, "start_weight": 90, "start_date": "2012-06-01", "target_date": "2012-06-30"}"#)
            let behind = try await client.send(.get, "/v1/goal/progress", token: user.token).json
            #expect(behind["state"]?.stringValue == "behind" && behind["projected_date"]?.stringValue == "2012-07-01")

            // No target date: on track.
            _ = try await put(client, user.token, #"{"target_weight": 85, "start_weight": 90, "start_date": "2012-06-01"}"#)
            let open = try await client.send(.get, "/v1/goal/progress", token: user.token).json
            #expect(open["state"]?.stringValue == "on_track" && open["projected_date"]?.stringValue == "2012-07-01")

            // In pounds: the same state and date, every weight converted from the exact values.
            let lb = try await client.send(.get, "/v1/goal/progress?unit=lb", token: user.token).json
            #expect(lb["goal"]?["unit"]?.stringValue == "lb" && lb["goal"]?["target_weight"]?.decimal == dec("187.39"))
            #expect(lb["current"]?.decimal == dec("197.63") && lb["weekly_rate"]?.decimal == dec("-3.09"))
            #expect(lb["percent_complete"]?.decimal == dec("7.1") && lb["projected_date"]?.stringValue == "2012-07-01")
        }
    }

    @Test func progressWrongDirectionNotEnoughDataAndNoEntries() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            // No entries: nothing to measure.
            _ = try await put(client, user.token, #"{"target_weight": 95, "start_weight": 90, "start_date": "2012-06-01"}"#)
            let empty = try await client.send(.get, "/v1/goal/progress", token: user.token).json
            for member in ["current", "remaining", "percent_complete", "weekly_rate", "projected_date"] {
                #expect(empty[member] == .null, "\(member): \(empty)")
            }
            #expect(empty["state"]?.stringValue == "not_enough_data")

            // Falling while the goal is to gain: the wrong way; below the start, so 0 % done.
            try await add(client, user.token, Self.falling)
            let wrong = try await client.send(.get, "/v1/goal/progress", token: user.token).json
            #expect(wrong["state"]?.stringValue == "wrong_direction" && wrong["projected_date"] == .null, "\(wrong)")
            #expect(wrong["weekly_rate"]?.decimal == dec("-1.4") && wrong["percent_complete"]?.decimal == 0)
            #expect(wrong["remaining"]?.decimal == dec("5.36"))
        }
        try await TestApp.run { client, _ in
            // Three days within the last 28 (older days do not count): no rate, though current uses every day.
            let user = try await client.newUser()
            try await add(client, user.token, [
                ("2012-04-01", "100"), ("2012-04-02", "100"), ("2012-06-01", "90"), ("2012-06-02", "90"),
                ("2012-06-03", "90"),
            ])
            _ = try await put(client, user.token, #"{"target_weight": 80, "start_weight": 100, "start_date": "2012-04-01"}"#)
            let few = try await client.send(.get, "/v1/goal/progress", token: user.token).json
            #expect(few["state"]?.stringValue == "not_enough_data" && few["weekly_rate"] == .null, "\(few)")
            // ema: 100, 100; a gap of 60 days: 100 − 10·(1 − 0.9⁶⁰) = 90.0179...; then 90.0161..., 90.0145...
            #expect(few["current"]?.decimal == dec("90.01"), "\(few)")
            #expect(few["projected_date"] == .null)

            // A fourth day in the window, level: a rate of exactly 0 is the wrong direction.
            try await add(client, user.token, [("2012-05-07", "90")])
            let level = try await client.send(.get, "/v1/goal/progress", token: user.token).json
            #expect(level["weekly_rate"]?.decimal == 0 && level["state"]?.stringValue == "wrong_direction", "\(level)")
        }
    }

    @Test func progressReachedInEitherDirection() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            try await add(client, user.token, [("2012-06-01", "80"), ("2012-06-02", "80")])
            _ = try await put(client, user.token, #"{"target_weight": 80, "start_weight": 70, "start_date": "2012-05-01"}"#)
            let gained = try await client.send(.get, "/v1/goal/progress", token: user.token).json
            #expect(gained["state"]?.stringValue == "reached" && gained["remaining"]?.decimal == 0, "\(gained)")
            #expect(gained["percent_complete"]?.decimal == 100 && gained["weekly_rate"] == .null)
            _ = try await put(client, user.token, #"{"target_weight": 81, "start_weight": 90, "start_date": "2012-05-01"}"#)
            let lost = try await client.send(.get, "/v1/goal/progress", token: user.token).json
            #expect(lost["state"]?.stringValue == "reached" && lost["remaining"]?.decimal == 1, "\(lost)")
            #expect(lost["percent_complete"]?.decimal == 100 && lost["projected_date"] == .null)
        }
    }

    @Test func progressEndToEnd() async throws {
        try await TestApp.run(.live) { client, _ in
            let user = try await client.newUser()
            try await add(client, user.token, Self.falling)
            #expect(try await put(client, user.token, #"{"target_weight": 85}"#).status == .created)
            let p = try await client.send(.get, "/v1/goal/progress", token: user.token).json
            #expect(p["goal"]?["start_weight"]?.decimal == dec("88.8") && p["goal"]?["start_date"]?.stringValue == "2012-06-07")
            #expect(p["state"]?.stringValue == "on_track" && p["projected_date"]?.stringValue == "2012-07-01", "\(p)")
            #expect(p["percent_complete"]?.decimal == 0, "current 89.64 is above the start 88.8: clamped to 0")
        }
    }
}
