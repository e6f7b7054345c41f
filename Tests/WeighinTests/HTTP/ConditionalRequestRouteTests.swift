import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import WireFormats

@testable import WeighinHTTP

/// Strong `ETag`s on entries and reads, `If-None-Match` (304) and `If-Match` (412) on writes.
@Suite("HTTP: conditional requests")
struct ConditionalRequestRouteTests {
    @Test func everyEntryAnswerAndEveryReadHasATagThatFollowsTheAnswer() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let created = try await client.send(
                .post, "/v1/entries", token: user.token, json: #"{"weight": 80, "recorded_on": "2026-05-01"}"#)
            let tag = try #require(created.headers[.eTag])
            #expect(tag.hasPrefix("\"") && tag.hasSuffix("\"") && !tag.hasPrefix("W/"))
            let id = try #require(created.json["id"]?.stringValue)
            let read = try await client.send(.get, "/v1/entries/\(id)", token: user.token)
            #expect(read.headers[.eTag] == tag, "the same representation, the same tag")
            let inPounds = try await client.send(.get, "/v1/entries/\(id)?unit=lb", token: user.token)
            #expect(inPounds.headers[.eTag] != tag, "the display unit changes the answer and its tag")

            for path in ["/v1/entries", "/v1/entries/\(id)", "/v1/stats", "/v1/trend", "/v1/trend?method=ema", "/v1/changes"] {
                let first = try await client.send(.get, path, token: user.token)
                let current = try #require(first.headers[.eTag], "\(path)")
                let second = try await client.send(.get, path, token: user.token)
                #expect(second.headers[.eTag] == current, "\(path): nothing changed, the same tag")
                for condition in [current, "W/\(current)", "\"other\", \(current)", "*"] {
                    let cached = try await client.send(.get, path, token: user.token, headers: [.ifNoneMatch: condition])
                    #expect(cached.status == .notModified && cached.bytes.isEmpty, "\(path) \(condition)")
                    #expect(cached.headers[.eTag] == current)
                }
                let stale = try await client.send(.get, path, token: user.token, headers: [.ifNoneMatch: "\"stale\""])
                #expect(stale.status == .ok && stale.bytes == first.bytes, "\(path)")
            }
            // A change changes the reads' tags.
            let before = try await client.send(.get, "/v1/entries", token: user.token).headers[.eTag]
            try await client.createEntry(user.token, weight: "79", recordedOn: "2026-05-02")
            #expect(try await client.send(.get, "/v1/entries", token: user.token).headers[.eTag] != before)
            // Goal progress too.
            #expect(try await client.send(.put, "/v1/goal", token: user.token, json: #"{"target_weight": 70}"#).status == .created)
            let progress = try await client.send(.get, "/v1/goal/progress", token: user.token)
            let cached = try await client.send(
                .get, "/v1/goal/progress", token: user.token, headers: [.ifNoneMatch: progress.headers[.eTag]!])
            #expect(cached.status == .notModified)
        }
    }

    @Test func ifMatchGuardsPatchDeleteAndPut() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let created = try await client.send(
                .post, "/v1/entries", token: user.token, json: #"{"weight": 80, "recorded_on": "2026-05-01"}"#)
            let id = try #require(created.json["id"]?.stringValue)
            let tag = try #require(created.headers[.eTag])
            let inPounds = try #require(try await client.send(.get, "/v1/entries/\(id)?unit=lb", token: user.token).headers[.eTag])

            // No match: 412, nothing changes.
            for condition in ["\"stale\"", "W/\(tag)", inPounds, "garbage", "\"a\" \"b\""] {
                expectProblem(
                    try await client.send(.patch, "/v1/entries/\(id)", token: user.token, json: #"{"note": "x"}"#,
                        headers: [.ifMatch: condition]), .preconditionFailed, "precondition_failed", condition)
                expectProblem(
                    try await client.send(.delete, "/v1/entries/\(id)", token: user.token, headers: [.ifMatch: condition]),
                    .preconditionFailed, "precondition_failed", condition)
            }
            #expect(try await client.send(.get, "/v1/entries/\(id)", token: user.token).json == created.json)
            // The tag in the request's display unit matches.
            let patched = try await client.send(
                .patch, "/v1/entries/\(id)?unit=lb", token: user.token, json: #"{"note": "x"}"#, headers: [.ifMatch: inPounds])
            #expect(patched.status == .ok && patched.json["note"]?.stringValue == "x")
            // The old tag no longer matches; the new one does, also within a list.
            expectProblem(
                try await client.send(.patch, "/v1/entries/\(id)", token: user.token, json: #"{"note": "y"}"#,
                    headers: [.ifMatch: tag]), .preconditionFailed)
            let current = try #require(try await client.send(.get, "/v1/entries/\(id)", token: user.token).headers[.eTag])
            let deleted = try await client.send(
                .delete, "/v1/entries/\(id)", token: user.token, headers: [.ifMatch: "\"x\", \(current)"])
            #expect(deleted.status == .noContent)
            // `*` matches no absent entry.
            expectProblem(
                try await client.send(.delete, "/v1/entries/\(id)", token: user.token, headers: [.ifMatch: "*"]),
                .preconditionFailed)
            expectProblem(
                try await client.send(.put, "/v1/entries/by-client-id/new", token: user.token,
                    json: #"{"weight": 80, "recorded_on": "2026-05-01", "client_version": 1}"#, headers: [.ifMatch: "*"]),
                .preconditionFailed)
            let made = try await client.send(
                .put, "/v1/entries/by-client-id/new", token: user.token,
                json: #"{"weight": 80, "recorded_on": "2026-05-01", "client_version": 1}"#)
            #expect(made.status == .created)
            let replaced = try await client.send(
                .put, "/v1/entries/by-client-id/new", token: user.token,
                json: #"{"weight": 81, "recorded_on": "2026-05-01", "client_version": 2}"#, headers: [.ifMatch: "*"])
            #expect(replaced.status == .ok)
            expectProblem(
                try await client.send(.put, "/v1/entries/by-client-id/new", token: user.token,
                    json: #"{"weight": 82, "recorded_on": "2026-05-01", "client_version": 3}"#,
                    headers: [.ifMatch: made.headers[.eTag]!]), .preconditionFailed)
            // Another user's entry is as absent.
            let other = try await client.newUser()
            let theirs = try await client.createEntry(other.token, weight: "70", recordedOn: "2026-05-01")
            expectProblem(
                try await client.send(.delete, "/v1/entries/\(theirs["id"]!.stringValue!)", token: user.token,
                    headers: [.ifMatch: "*"]), .preconditionFailed)
        }
    }

    @Test func conditionListsAreParsedByTheGrammar() {
        #expect(EntityTag.parse(#""a""#) == [.tag(opaque: "a", weak: false)])
        #expect(EntityTag.parse(#" W/"a" ,, "b" "#) == [.tag(opaque: "a", weak: true), .tag(opaque: "b", weak: false)])
        #expect(EntityTag.parse("*") == [.any])
        for malformed in ["a", #""a"b"#, #""a b""#, #""a"#, "W/a", #""a" "b""#, "", " , "] {
            #expect(EntityTag.parse(Substring(malformed)) == nil, "\(malformed)")
        }
        let tag = EntityTag.of(Array("{}".utf8))
        #expect(EntityTag.noneMatchFails([.tag(opaque: tag.dropFirst().dropLast(), weak: true)], tag: tag))
        #expect(!EntityTag.noneMatchFails([.tag(opaque: "x", weak: false)], tag: tag))
    }
}
