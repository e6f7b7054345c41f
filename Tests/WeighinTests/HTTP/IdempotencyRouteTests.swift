import Foundation
import HTTPTypes
import HummingbirdTesting
import Postgres
import Testing
import WireFormats

/// HTTP: POST /v1/entries with an Idempotency-Key — replay byte for byte, reuse with another body, key rules, races.
@Suite("HTTP: idempotent entry creation")
struct IdempotencyRouteTests {
    static let key = HTTPField.Name("Idempotency-Key")!

    static func post(
        _ client: some TestClientProtocol, _ token: String, _ body: String, key: String?, query: String = ""
    ) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let key { headers[Self.key] = key }
        return try await client.send(.post, "/v1/entries" + query, token: token, json: body, headers: headers)
    }

    static func count(_ databaseURL: String, _ userID: String) async throws -> Int {
        try await TestDatabase.count(
            databaseURL, "SELECT count(*) AS n FROM weight_entries WHERE user_id = \(UUID(uuidString: userID)!)")
    }

    @Test func aRepeatWithTheSameBodyReplaysTheFirstAnswerByteForByte() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser(weightUnit: "kg")
            let body = #"{"weight": 70, "unit": "lb", "recorded_on": "2020-01-01", "note": "x"}"#
            let first = try await Self.post(client, user.token, body, key: "morning-1")
            #expect(first.status == .created)
            let location = try #require(first.headers[.location])
            #expect(location == "/v1/entries/\(first.json["id"]?.stringValue ?? "")")
            let same: [(String, String)] = [
                (body, "identical"),
                (#"{"note": "x", "recorded_on": "2020-01-01", "unit": "lb", "weight": 70}"#, "members reordered"),
                ("{\n  \"weight\" : 70 ,\n\t\"unit\":\"lb\",\"recorded_on\":\"2020-01-01\",   \"note\":\"x\"\n}\n", "whitespace"),
                (#"{"weight": 70.0, "unit": "lb", "recorded_on": "2020-01-01", "note": "x"}"#, "70.0"),
                (#"{"weight": 70.00, "unit": "lb", "recorded_on": "2020-01-01", "note": "x"}"#, "70.00"),
                (#"{"weight": 7e1, "unit": "lb", "recorded_on": "2020-01-01", "note": "x"}"#, "7e1"),
                (#"{"weight": 70, "unit": "lbs", "recorded_on": "2020-01-01", "note": "x"}"#, "lbs"),
                (#"{"weight":70,"unit":"lbs","note":"x","recorded_on":"2020-01-01"}"#, "all at once"),
            ]
            for (repeatBody, label) in same {
                let again = try await Self.post(client, user.token, repeatBody, key: "morning-1")
                #expect(again.status == .created, "\(label)")
                #expect(again.bytes == first.bytes, "\(label): \(again.text) vs \(first.text)")
                #expect(again.headers[.location] == location, "\(label)")
                #expect(again.mediaType == "application/json")
            }
            // The answer is the first one even when asked for another display unit.
            let otherDisplay = try await Self.post(client, user.token, body, key: "morning-1", query: "?unit=lb")
            #expect(otherDisplay.bytes == first.bytes)
            #expect(try await Self.count(databaseURL, user.id) == 1)

            // Even after the entry was deleted.
            #expect(try await client.send(.delete, location, token: user.token).status == .noContent)
            let afterDelete = try await Self.post(client, user.token, body, key: "morning-1")
            #expect(afterDelete.status == .created)
            #expect(afterDelete.bytes == first.bytes)
            #expect(afterDelete.headers[.location] == location)
            #expect(try await Self.count(databaseURL, user.id) == 0)
        }
    }

    @Test func aDifferentBodyWithTheSameKeyIs422() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser(weightUnit: "kg")
            let body = #"{"weight": 70, "unit": "kg", "recorded_on": "2020-01-01"}"#
            let first = try await Self.post(client, user.token, body, key: "k1")
            #expect(first.status == .created)
            let different = [
                #"{"weight": 71, "unit": "kg", "recorded_on": "2020-01-01"}"#,
                #"{"weight": 70, "unit": "lb", "recorded_on": "2020-01-01"}"#,
                #"{"weight": 70, "unit": "kg", "recorded_on": "2020-01-02"}"#,
                #"{"weight": 70, "unit": "kg", "recorded_on": "2020-01-01", "note": "x"}"#,
                #"{"weight": 70, "unit": "kg", "recorded_on": "2020-01-01", "note": null}"#,
                #"{"weight": 70, "recorded_on": "2020-01-01"}"#,
                #"{"weight": 70.01, "unit": "kg", "recorded_on": "2020-01-01"}"#,
            ]
            for other in different {
                expectProblem(try await Self.post(client, user.token, other, key: "k1"), .unprocessableContent,
                              "idempotency_key_reused", other)
            }
            // A missing unit differs from a given one, the other way round too.
            let unitless = #"{"weight": 70, "recorded_on": "2020-01-03"}"#
            #expect(try await Self.post(client, user.token, unitless, key: "k2").status == .created)
            expectProblem(try await Self.post(client, user.token, #"{"weight": 70, "unit": "kg", "recorded_on": "2020-01-03"}"#, key: "k2"),
                          .unprocessableContent, "idempotency_key_reused")
            #expect(try await Self.count(databaseURL, user.id) == 2)
            // The first answer is still replayed.
            #expect(try await Self.post(client, user.token, body, key: "k1").bytes == first.bytes)
        }
    }

    @Test func keysMustBe1To255Characters() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let body = #"{"weight": 70, "recorded_on": "2020-01-01"}"#
            for key in ["", String(repeating: "k", count: 256), String(repeating: "k", count: 1000)] {
                expectValidation(try await Self.post(client, user.token, body, key: key), field: "Idempotency-Key",
                                 "key of \(key.count) characters")
            }
            #expect(try await Self.count(databaseURL, user.id) == 0)
            let longest = String(repeating: "k", count: 255)
            let accepted = try await Self.post(client, user.token, body, key: longest)
            #expect(accepted.status == .created)
            #expect(try await Self.post(client, user.token, body, key: longest).bytes == accepted.bytes)
            #expect(try await Self.post(client, user.token, body, key: "k").status == .created)
            #expect(try await Self.count(databaseURL, user.id) == 2)
        }
    }

    @Test func keysOfDifferentUsersNeverCollide() async throws {
        try await TestApp.run { client, databaseURL in
            let a = try await client.newUser()
            let b = try await client.newUser()
            let body = #"{"weight": 70, "unit": "kg", "recorded_on": "2020-01-01"}"#
            let first = try await Self.post(client, a.token, body, key: "shared-key")
            let second = try await Self.post(client, b.token, body, key: "shared-key")
            #expect(first.status == .created && second.status == .created)
            #expect(first.json["id"] != second.json["id"])
            // Another body under the same key is fine for the other user.
            let third = try await Self.post(client, b.token, #"{"weight": 80, "unit": "kg", "recorded_on": "2020-01-02"}"#, key: "other")
            let fourth = try await Self.post(client, a.token, #"{"weight": 90, "unit": "kg", "recorded_on": "2020-01-02"}"#, key: "other")
            #expect(third.status == .created && fourth.status == .created)
            #expect(try await Self.post(client, a.token, body, key: "shared-key").bytes == first.bytes)
            #expect(try await Self.post(client, b.token, body, key: "shared-key").bytes == second.bytes)
            #expect(try await Self.count(databaseURL, a.id) == 2)
            #expect(try await Self.count(databaseURL, b.id) == 2)
            let bID = try #require(second.json["id"]?.stringValue)
            #expect(try await client.send(.get, "/v1/entries/\(bID)", token: b.token).status == .ok)
            expectProblem(try await client.send(.get, "/v1/entries/\(bID)", token: a.token), .notFound, "not_found")
        }
    }

    @Test func concurrentRequestsWithOneKeyCreateOneEntry() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let body = #"{"weight": 70, "unit": "kg", "recorded_on": "2020-01-01", "note": "race"}"#
            for round in 0..<3 {
                let key = "race-\(round)"
                let answers = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                    for _ in 0..<10 { group.addTask { try await Self.post(client, user.token, body, key: key) } }
                    var answers: [TestResponse] = []
                    for try await answer in group { answers.append(answer) }
                    return answers
                }
                let created = answers.filter { $0.status == .created }
                #expect(!created.isEmpty, "round \(round)")
                #expect(Set(created.map(\.bytes)).count == 1, "round \(round): different 201 answers")
                #expect(Set(created.compactMap { $0.headers[.location] }).count == 1)
                for answer in answers where answer.status != .created {
                    expectProblem(answer, .conflict, "idempotency_key_in_use", "round \(round)")
                }
                #expect(try await Self.count(databaseURL, user.id) == round + 1, "round \(round)")
                // Afterwards it replays.
                let later = try await Self.post(client, user.token, body, key: key)
                #expect(later.bytes == created.first?.bytes)
            }
        }
    }

    @Test func onlyCreatedAnswersAreRemembered() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let valid = #"{"weight": 70, "recorded_on": "2020-01-01"}"#
            let failures: [(String, HTTPResponse.Status)] = [
                (#"{"weight": 0, "recorded_on": "2020-01-01"}"#, .unprocessableContent),
                (#"{"weight": 70, "recorded_on": "2020-02-30"}"#, .unprocessableContent),
                (#"{"weight": 70, "recorded_on": "2020-01-01", "wieght": 1}"#, .unprocessableContent),
                (#"{"weight": 70,"#, .badRequest),
            ]
            for (index, (body, status)) in failures.enumerated() {
                let key = "retry-\(index)"
                #expect(try await Self.post(client, user.token, body, key: key).status == status, "\(body)")
                let created = try await Self.post(client, user.token, valid, key: key)
                #expect(created.status == .created, "after \(body)")
                #expect(try await Self.post(client, user.token, valid, key: key).bytes == created.bytes)
            }
            #expect(try await Self.count(databaseURL, user.id) == failures.count)
            // Without a key, or with different keys, each request stores an entry.
            #expect(try await Self.post(client, user.token, valid, key: nil).status == .created)
            #expect(try await Self.post(client, user.token, valid, key: nil).status == .created)
            #expect(try await Self.post(client, user.token, valid, key: "fresh-1").status == .created)
            #expect(try await Self.post(client, user.token, valid, key: "fresh-2").status == .created)
            #expect(try await Self.count(databaseURL, user.id) == failures.count + 4)
        }
    }

    @Test func replayOnALiveServer() async throws {
        try await TestApp.run(.live) { client, databaseURL in
            let user = try await client.newUser()
            let body = #"{"weight": 72.35, "unit": "kg", "recorded_on": "2025-01-01"}"#
            let first = try await Self.post(client, user.token, body, key: "live-key")
            let again = try await Self.post(client, user.token, #"{"recorded_on": "2025-01-01", "weight": 72.350, "unit": "kg"}"#,
                                            key: "live-key")
            #expect(first.status == .created && again.status == .created)
            #expect(first.bytes == again.bytes)
            #expect(first.headers[.location] == again.headers[.location])
            expectProblem(try await Self.post(client, user.token, #"{"weight": 1, "recorded_on": "2025-01-01"}"#, key: "live-key"),
                          .unprocessableContent, "idempotency_key_reused")
            #expect(try await Self.count(databaseURL, user.id) == 1)
        }
    }
}
