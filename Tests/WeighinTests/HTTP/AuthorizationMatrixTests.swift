import Foundation
import HTTPTypes
import HummingbirdTesting
import Postgres
import Testing
import WireFormats

/// HTTP: one user never reaches another's entries (404 like a missing id), malformed ids, unknown routes and 405s.
@Suite("HTTP: authorization matrix and routing")
struct AuthorizationMatrixTests {
    static let methods: [(HTTPRequest.Method, String?)] = [
        (.get, nil), (.patch, #"{"weight": 50, "note": "hacked"}"#), (.delete, nil),
    ]

    /// Everything of a user's entries as the database holds them.
    static func snapshot(_ databaseURL: String, _ userID: String) async throws -> [String] {
        try await TestDatabase.query(
            databaseURL,
            """
            SELECT id::text || ' ' || weight::text || ' ' || unit || ' ' || recorded_on::text || ' ' || coalesce(note, '<null>')
                   || ' ' || updated_at::text AS row
            FROM weight_entries WHERE user_id = \(UUID(uuidString: userID)!) ORDER BY id
            """
        ).map { try $0.decode(String.self, column: "row") }
    }

    @Test func anotherUsersEntryIsNotFoundExactlyLikeAMissingOne() async throws {
        try await TestApp.run { client, databaseURL in
            let owner = try await client.newUser()
            let intruder = try await client.newUser()
            let entries = [
                try await client.createEntry(owner.token, weight: "81.5", unit: "kg", recordedOn: "2020-07-01", note: "mine"),
                try await client.createEntry(owner.token, weight: "170", unit: "lb", recordedOn: "2020-07-02"),
            ]
            let before = try await Self.snapshot(databaseURL, owner.id)
            for entry in entries {
                let id = try #require(entry["id"]?.stringValue)
                for (method, body) in Self.methods {
                    let ghost = UUID().uuidString.lowercased()
                    let theirs = try await client.send(method, "/v1/entries/\(id)", token: intruder.token, json: body)
                    let missing = try await client.send(method, "/v1/entries/\(ghost)", token: intruder.token, json: body)
                    let a = expectProblem(theirs, .notFound, "not_found", "\(method) another user's entry")
                    let b = expectProblem(missing, .notFound, "not_found", "\(method) a random id")
                    #expect(a.removing(["request_id"]) == b.removing(["request_id"]), "\(method): \(theirs.text) vs \(missing.text)")
                    #expect(!theirs.text.contains(id))
                    let names = { (r: TestResponse) in Set(r.headers.map(\.name.canonicalName)) }
                    #expect(names(theirs) == names(missing))
                    // Asking with another display unit changes nothing either.
                    let withUnit = try await client.send(method, "/v1/entries/\(id)?unit=lb", token: intruder.token, json: body)
                    expectProblem(withUnit, .notFound, "not_found")
                }
            }
            // The owner's data is unchanged, row for row.
            #expect(try await Self.snapshot(databaseURL, owner.id) == before)
            for entry in entries {
                let id = try #require(entry["id"]?.stringValue)
                #expect(try await client.send(.get, "/v1/entries/\(id)", token: owner.token).json == entry)
            }
            // Nor does it appear anywhere for the intruder.
            #expect(try await client.listAll(intruder.token).isEmpty)
            let export = try await client.send(.get, "/v1/entries/export?format=json", token: intruder.token)
            #expect(export.json == .array([]))
            #expect(try await client.send(.get, "/v1/stats", token: intruder.token).json["count"]?.intValue == 0)
            #expect(try await client.send(.get, "/v1/trend", token: intruder.token).json["points"] == .array([]))
            #expect(try await TestDatabase.userRows(databaseURL, userID: intruder.id)["weight_entries"] == 0)
        }
    }

    @Test func everyOwnEntryIsReachableByItsOwnerOnly() async throws {
        try await TestApp.run { client, databaseURL in
            let users = [try await client.newUser(), try await client.newUser(), try await client.newUser()]
            var owned: [(owner: Int, id: String)] = []
            for (index, user) in users.enumerated() {
                for day in 1...2 {
                    let entry = try await client.createEntry(user.token, weight: "\(60 + index).\(day)", recordedOn: "2021-01-0\(day)")
                    owned.append((index, try #require(entry["id"]?.stringValue)))
                }
            }
            for (index, user) in users.enumerated() {
                for (owner, id) in owned {
                    let response = try await client.send(.get, "/v1/entries/\(id)", token: user.token)
                    if owner == index {
                        #expect(response.status == .ok)
                    } else {
                        expectProblem(response, .notFound, "not_found", "user \(index) reading user \(owner)'s entry")
                        expectProblem(try await client.send(.delete, "/v1/entries/\(id)", token: user.token), .notFound,
                                      "not_found")
                    }
                }
            }
            #expect(try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM weight_entries") == owned.count)
        }
    }

    @Test func malformedIDsAreNotFound() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let entry = try await client.createEntry(user.token, weight: "70", recordedOn: "2020-01-01", note: "still here")
            let id = try #require(entry["id"]?.stringValue)
            let plain = id.replacingOccurrences(of: "-", with: "")
            var shifted = Array(plain)
            for position in [9, 14, 19, 24] { shifted.insert("-", at: position) }
            // Variants of the real id that a lenient parser could still find.
            let malformed = [
                "not-a-uuid", "12345", String(id.dropLast()), id + "0", "{\(id)}", plain, "urn:uuid:\(id)",
                String(shifted), String(id.dropLast()) + "g", "00000000-0000-0000-0000-00000000000g",
                id.replacingOccurrences(of: "-", with: "_"), "6f1c1d3e-8a52-4a8e-9a4e-2b8f0f7d0c1a0",
            ]
            for bad in malformed {
                #expect(bad != id)
                for (method, body) in Self.methods {
                    let response = try await client.send(method, "/v1/entries/\(bad)", token: user.token, json: body)
                    expectProblem(response, .notFound, "not_found", "\(method) \(bad)")
                }
            }
            #expect(try await client.send(.get, "/v1/entries/\(id)", token: user.token).json == entry)
            #expect(try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM weight_entries") == 1)
        }
    }

    @Test func unknownRoutesAre404() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let ghost = UUID().uuidString.lowercased()
            for path in ["/v1/nothing", "/v2/entries", "/v1/entries/\(ghost)/extra", "/v1", "/v1/users/me", "/healthz/x",
                         "/v1/entries/export/csv", "/V1/ENTRIES"] {
                for token in [nil, user.token] as [String?] {
                    let response = try await client.send(.get, path, token: token)
                    expectProblem(response, .notFound, "not_found", "GET \(path) token \(token != nil)")
                    #expect(response.headers[.init("X-Request-ID")!] != nil)
                }
            }
            expectProblem(try await client.send(.post, "/v1/nothing", token: user.token, json: "{}"), .notFound, "not_found")
        }
    }

    @Test func aKnownRouteWithAnotherMethodIs405WithAllow() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let ghost = UUID().uuidString.lowercased()
            let cases: [(HTTPRequest.Method, String, Set<String>)] = [
                (.put, "/v1/entries", ["GET", "POST"]), (.delete, "/v1/entries", ["GET", "POST"]),
                (.patch, "/v1/entries", ["GET", "POST"]), (.delete, "/v1/stats", ["GET"]), (.post, "/v1/stats", ["GET"]),
                (.post, "/v1/trend", ["GET"]), (.post, "/healthz", ["GET"]), (.delete, "/metrics", ["GET"]),
                (.put, "/readyz", ["GET"]), (.post, "/openapi.json", ["GET"]),
                (.put, "/v1/entries/\(ghost)", ["GET", "PATCH", "DELETE"]),
                (.post, "/v1/entries/\(ghost)", ["GET", "PATCH", "DELETE"]),
                (.get, "/v1/users", ["POST"]), (.get, "/v1/tokens", ["POST"]), (.get, "/v1/tokens/current", ["DELETE"]),
                (.post, "/v1/me", ["GET", "PATCH", "DELETE"]), (.get, "/v1/me/password", ["PUT"]),
                (.post, "/v1/entries/export", ["GET"]), (.get, "/v1/entries/import", ["POST"]),
            ]
            for (method, path, allowed) in cases {
                let response = try await client.send(method, path, token: user.token, json: method == .get ? nil : "{}")
                expectProblem(response, .methodNotAllowed, "method_not_allowed", "\(method) \(path)")
                let allow = Set((response.headers[.allow] ?? "").split(separator: ",").map {
                    $0.trimmingCharacters(in: .whitespaces).uppercased()
                })
                #expect(allow.subtracting(["HEAD"]) == allowed, "\(method) \(path): Allow \(allow)")
            }
        }
    }

    @Test func theMatrixOnALiveServer() async throws {
        try await TestApp.run(.live) { client, databaseURL in
            let owner = try await client.newUser()
            let intruder = try await client.newUser()
            let entry = try await client.createEntry(owner.token, weight: "66.6", recordedOn: "2020-07-01", note: "private")
            let id = try #require(entry["id"]?.stringValue)
            let before = try await Self.snapshot(databaseURL, owner.id)
            for (method, body) in Self.methods {
                let theirs = try await client.send(method, "/v1/entries/\(id)", token: intruder.token, json: body)
                let missing = try await client.send(method, "/v1/entries/\(UUID().uuidString.lowercased())", token: intruder.token, json: body)
                let a = expectProblem(theirs, .notFound, "not_found")
                let b = expectProblem(missing, .notFound, "not_found")
                #expect(a.removing(["request_id"]) == b.removing(["request_id"]))
            }
            #expect(try await Self.snapshot(databaseURL, owner.id) == before)
            expectProblem(try await client.send(.put, "/v1/entries", token: owner.token, json: "{}"), .methodNotAllowed,
                          "method_not_allowed")
            expectProblem(try await client.send(.get, "/v1/nowhere", token: owner.token), .notFound, "not_found")
        }
    }
}
