import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import WireFormats

/// `PUT /v1/entries/by-client-id/{client_record_id}`: create, replace when newer, the same again, conflicts.
@Suite("HTTP: entries by the device's id")
struct ClientRecordRouteTests {
    func put(
        _ client: any TestClientProtocol, _ token: String, _ id: String, _ body: String, query: String = "",
        headers: HTTPFields = [:]
    ) async throws -> TestResponse {
        try await client.send(.put, "/v1/entries/by-client-id/\(id)\(query)", token: token, json: body, headers: headers)
    }

    @Test func createReplaceRepeatAndConflict() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let created = try await put(
                client, user.token, "watch-1",
                #"{"weight": 80.5, "unit": "kg", "recorded_on": "2026-04-01", "note": "am", "client_version": 3}"#)
            #expect(created.status == .created, "\(created.text)")
            let id = try #require(created.json["id"]?.stringValue)
            #expect(created.headers[.location] == "/v1/entries/\(id)")
            #expect(created.headers[.eTag] != nil && created.headers[.cacheControl] == "no-store")
            #expect(created.json["client_record_id"]?.stringValue == "watch-1" && created.json["client_version"]?.intValue == 3)
            #expect(try await client.send(.get, "/v1/entries/\(id)", token: user.token).json == created.json)

            // The same version and the same body as parsed JSON: 200, nothing changes.
            let same = try await put(
                client, user.token, "watch-1",
                #"{"client_version": 3, "note": "am", "recorded_on": "2026-04-01", "unit": "kg", "weight": 80.50}"#)
            #expect(same.status == .ok && same.json == created.json && same.headers[.eTag] == created.headers[.eTag])
            // The same version with other content, or a lower one: 409 with the stored entry.
            for body in [
                #"{"weight": 81, "unit": "kg", "recorded_on": "2026-04-01", "note": "am", "client_version": 3}"#,
                #"{"weight": 80.5, "unit": "kg", "recorded_on": "2026-04-01", "note": "am", "client_version": 2}"#,
            ] {
                let conflict = expectProblem(
                    try await put(client, user.token, "watch-1", body), .conflict, "version_conflict")
                #expect(conflict["current"] == created.json)
            }
            // In the request's display unit.
            let inPounds = expectProblem(
                try await put(client, user.token, "watch-1", #"{"weight": 1, "recorded_on": "2026-04-01", "client_version": 0}"#,
                    query: "?unit=lb"), .conflict, "version_conflict")
            #expect(inPounds["current"]?["unit"]?.stringValue == "lb")

            // A higher version replaces the whole entry: what is left out becomes null; id and created_at stay.
            let replaced = try await put(
                client, user.token, "watch-1", #"{"weight": 176, "unit": "lbs", "recorded_on": "2026-04-02", "client_version": 4}"#)
            #expect(replaced.status == .ok, "\(replaced.text)")
            #expect(replaced.json["id"]?.stringValue == id && replaced.json["note"] == .null)
            #expect(replaced.json["created_at"] == created.json["created_at"])
            #expect(replaced.json["unit"]?.stringValue == "kg" && replaced.json["client_version"]?.intValue == 4)
            let stored = try await client.send(.get, "/v1/entries/\(id)?unit=lb", token: user.token).json
            #expect(stored["weight"]?.decimal == 176 && stored["recorded_on"]?.stringValue == "2026-04-02")

            // A PATCH keeps the client id and version; the same version then no longer has the same content.
            let patched = try await client.send(.patch, "/v1/entries/\(id)", token: user.token, json: #"{"note": "edited"}"#)
            #expect(patched.json["client_record_id"]?.stringValue == "watch-1" && patched.json["client_version"]?.intValue == 4)
            expectProblem(
                try await put(client, user.token, "watch-1", #"{"weight": 176, "unit": "lbs", "recorded_on": "2026-04-02", "client_version": 4}"#),
                .conflict, "version_conflict")

            // Deleting the entry frees the id: the next PUT creates a new entry.
            #expect(try await client.send(.delete, "/v1/entries/\(id)", token: user.token).status == .noContent)
            let again = try await put(client, user.token, "watch-1", #"{"weight": 70, "recorded_on": "2026-04-03", "client_version": 1}"#)
            #expect(again.status == .created && again.json["id"]?.stringValue != id)

            // Ids are per user.
            let other = try await client.newUser()
            let theirs = try await put(client, other.token, "watch-1", #"{"weight": 60, "recorded_on": "2026-04-03", "client_version": 9}"#)
            #expect(theirs.status == .created)
            #expect(try await TestDatabase.count(
                databaseURL, "SELECT count(*) AS n FROM weight_entries WHERE client_record_id = 'watch-1'") == 2)
        }
    }

    @Test func idsArePercentDecodedAndBoundedAndTheBodyIsChecked() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let slash = try await put(client, user.token, "health%2Fconnect%20%C3%A9", #"{"weight": 80, "recorded_on": "2026-04-01", "client_version": 0}"#)
            #expect(slash.status == .created && slash.json["client_record_id"]?.stringValue == "health/connect é")
            let longest = String(repeating: "é", count: 255)
            let long = try await put(
                client, user.token, longest.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!,
                #"{"weight": 80, "recorded_on": "2026-04-01", "client_version": 0}"#)
            #expect(long.status == .created, "255 code points are allowed")
            let body = #"{"weight": 80, "recorded_on": "2026-04-01", "client_version": 0}"#
            expectValidation(try await put(client, user.token, String(repeating: "a", count: 256), body), field: "client_record_id")
            expectValidation(try await put(client, user.token, "%FF", body), field: "client_record_id")
            expectValidation(try await put(client, user.token, "a%00b", body), field: "client_record_id")
            for version in ["-1", "1.5", "\"1\"", "9223372036854775808", "null"] {
                expectValidation(
                    try await put(client, user.token, "v", #"{"weight": 80, "recorded_on": "2026-04-01", "client_version": \#(version)}"#),
                    field: "client_version", version)
            }
            expectValidation(try await put(client, user.token, "v", #"{"weight": 80, "recorded_on": "2026-04-01"}"#), field: "client_version")
            let max = try await put(
                client, user.token, "v", #"{"weight": 80, "recorded_on": "2026-04-01", "client_version": 9223372036854775807}"#)
            #expect(max.status == .created && max.json["client_version"]?.intValue == Int.max)
            // Every failing field at once; nothing stored.
            let all = expectValidation(
                try await put(client, user.token, "w", #"{"weight": -1, "wieght": 2, "client_version": -1}"#), field: "weight")
            #expect(Set(errorFields(all)).isSuperset(of: ["weight", "wieght", "client_version", "recorded_on"]))
            #expect(try await client.listAll(user.token).count == 3)
            expectUnauthorized(try await client.send(.put, "/v1/entries/by-client-id/x", json: body))
        }
    }

    @Test func twoDevicesSendingTheSameNewIdAtOnceMakeOneEntry() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let answers = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await put(client, user.token, "same", #"{"weight": 80, "recorded_on": "2026-04-01", "client_version": 1}"#).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.filter { $0 == .created }.count == 1 && answers.filter { $0 == .ok }.count == 7, "\(answers)")
            #expect(try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM weight_entries") == 1)
        }
    }
}
