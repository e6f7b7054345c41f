import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Postgres
import Synchronization
import Testing
import WireFormats

/// HTTP: personal access tokens (`/v1/me/tokens`): made, listed and revoked with a log-in token; scopes decided
/// before the body is read; what a personal token may never do; the live-token limit; `last_used_at` throttled.
@Suite("HTTP: personal access tokens and scopes")
struct PersonalTokenRouteTests {
    static let createdKeys: Set<String> = ["id", "name", "scope", "token", "created_at", "expires_at", "last_used_at"]

    /// Makes a personal token and checks the 201 answer's members.
    static func create(
        _ client: any TestClientProtocol, _ token: String, scope: String, name: String = "Scale sync",
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> (token: String, id: String) {
        let made = try await client.send(
            .post, "/v1/me/tokens", token: token, json: #"{"name": "\#(name)", "scope": "\#(scope)"}"#)
        #expect(made.status == .created, "\(made.text)", sourceLocation: sourceLocation)
        #expect(Set(made.json.objectValue?.keys ?? []) == createdKeys, "\(made.text)", sourceLocation: sourceLocation)
        return (try #require(made.json["token"]?.stringValue), try #require(made.json["id"]?.stringValue))
    }

    /// Checks a 403 `insufficient_scope` with its `WWW-Authenticate` challenge.
    static func expectInsufficientScope(
        _ response: TestResponse, _ comment: String = "", sourceLocation: SourceLocation = #_sourceLocation
    ) {
        expectProblem(response, .forbidden, "insufficient_scope", comment, sourceLocation: sourceLocation)
        #expect(response.headers[.wwwAuthenticate] == #"Bearer error="insufficient_scope""#, "\(comment)",
                sourceLocation: sourceLocation)
    }

    @Test func aPersonalTokenIsShownOnceAndAuthenticatesItsUser() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let made = try await client.send(
                .post, "/v1/me/tokens", token: user.token, json: #"{"name": "  Scale sync ", "scope": "read"}"#)
            #expect(made.status == .created)
            #expect(made.headers[.cacheControl] == "no-store")
            #expect(made.json["name"]?.stringValue == "Scale sync", "stored trimmed")
            #expect(made.json["scope"]?.stringValue == "read")
            #expect(made.json["last_used_at"] == .null)
            let token = try #require(made.json["token"]?.stringValue)
            #expect(token.hasPrefix("wi_") && token != user.token)
            let expires = try #require(parseTimestamp(made.json["expires_at"]?.stringValue ?? ""))
            #expect(abs(expires.timeIntervalSince(Date().addingTimeInterval(90 * 86_400))) < 300, "90 days by default")
            #expect(try await client.send(.get, "/v1/me", token: token).json["id"]?.stringValue == user.id)
            // Only its hash is kept.
            let stored = try await TestDatabase.count(
                databaseURL,
                "SELECT count(*) AS n FROM auth_tokens WHERE position(convert_to(\(token), 'UTF8') IN token_hash) > 0 OR name <> 'Scale sync'")
            #expect(stored == 0)

            let shortLived = try await client.send(
                .post, "/v1/me/tokens", token: user.token,
                json: #"{"name": "CI", "scope": "write", "expires_in_days": 1}"#)
            let day = try #require(parseTimestamp(shortLived.json["expires_at"]?.stringValue ?? ""))
            #expect(abs(day.timeIntervalSince(Date().addingTimeInterval(86_400))) < 300)
        }
    }

    @Test func invalidRequestsNameTheirFields() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let cases: [(String, String)] = [
                (#"{"scope": "read"}"#, "name"), (#"{"name": "x"}"#, "scope"),
                (#"{"name": "x", "scope": "admin"}"#, "scope"), (#"{"name": "   ", "scope": "read"}"#, "name"),
                (#"{"name": "\#(String(repeating: "n", count: 101))", "scope": "read"}"#, "name"),
                (#"{"name": "x", "scope": "read", "expires_in_days": 0}"#, "expires_in_days"),
                (#"{"name": "x", "scope": "read", "expires_in_days": 366}"#, "expires_in_days"),
                (#"{"name": "x", "scope": "read", "expires_in_days": "7"}"#, "expires_in_days"),
                (#"{"name": "x", "scope": "read", "expiry": 7}"#, "expiry"),
                (#"{"name": "a\u0000b", "scope": "read"}"#, "name"),
            ]
            for (body, field) in cases {
                expectValidation(try await client.send(.post, "/v1/me/tokens", token: user.token, json: body), field: field, body)
            }
            let hundred = String(repeating: "é", count: 100)
            let made = try await client.send(
                .post, "/v1/me/tokens", token: user.token, json: #"{"name": "\#(hundred)", "scope": "read", "expires_in_days": 365}"#)
            #expect(made.status == .created, "100 code points and 365 days are allowed")
        }
    }

    @Test func theListShowsEveryLiveTokenWithoutSecrets() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let personal = try await Self.create(client, user.token, scope: "write")
            let expired = try await Self.create(client, user.token, scope: "read", name: "Old")
            try await TestDatabase.query(
                databaseURL,
                "UPDATE auth_tokens SET expires_at = now() - interval '1 second' WHERE id = \(UUID(uuidString: expired.id)!)")
            let listed = try await client.send(.get, "/v1/me/tokens", token: user.token)
            #expect(listed.status == .ok)
            #expect(listed.headers[.cacheControl] == "no-store")
            #expect(!listed.text.contains(user.token) && !listed.text.contains(personal.token), "a secret is listed")
            let tokens = listed.json["tokens"]?.arrayValue ?? []
            #expect(tokens.count == 2, "the log-in token and the live personal one: \(listed.text)")
            for token in tokens {
                #expect(Set(token.objectValue?.keys ?? []) == Self.createdKeys.subtracting(["token"]))
            }
            let login = try #require(tokens.first { $0["name"] == .null })
            #expect(login["scope"]?.stringValue == "write")
            #expect(tokens.contains { $0["id"]?.stringValue == personal.id && $0["name"]?.stringValue == "Scale sync" })
        }
    }

    @Test func aReadTokenReadsAndIsRefusedEverythingElseBeforeTheBodyIsRead() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let created = try await client.createEntry(user.token, weight: "70", recordedOn: "2024-01-02")
            let id = try #require(created["id"]?.stringValue)
            let read = try await Self.create(client, user.token, scope: "read").token
            for path in ["/v1/me", "/v1/entries", "/v1/entries/\(id)", "/v1/entries/export", "/v1/stats", "/v1/trend"] {
                #expect(try await client.send(.get, path, token: read).status == .ok, "GET \(path)")
            }
            #expect(try await client.send(.head, "/v1/entries", token: read).status == .ok)
            Self.expectInsufficientScope(try await client.send(
                .post, "/v1/entries", token: read, json: #"{"weight": 71, "recorded_on": "2024-01-03"}"#))
            Self.expectInsufficientScope(try await client.send(
                .patch, "/v1/entries/\(id)", token: read, json: #"{"note": "x"}"#))
            Self.expectInsufficientScope(try await client.send(.delete, "/v1/entries/\(id)", token: read))
            Self.expectInsufficientScope(try await client.send(.patch, "/v1/me", token: read, json: #"{"name": "x"}"#))
            Self.expectInsufficientScope(try await client.send(
                .put, "/v1/goal", token: read, json: #"{"target_weight": 60, "unit": "kg"}"#))
            // A 9 MiB body the token may not send answers 403 at once: not 413, not a parse error.
            let big = try await client.execute(
                uri: "/v1/entries/import", method: .post,
                headers: [.authorization: "Bearer \(read)", .contentType: "text/csv"],
                body: ByteBuffer(repeating: UInt8(ascii: "x"), count: 9 << 20))
            Self.expectInsufficientScope(big, "9 MiB import")
            let listed = try await client.send(.get, "/v1/entries", token: user.token)
            #expect(listed.json["entries"]?.arrayValue?.count == 1, "a refused call stored something")
        }
    }

    @Test func aPersonalTokenNeverManagesTokensThePasswordTheEmailOrTheAccount() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let write = try await Self.create(client, user.token, scope: "write").token
            #expect(try await client.send(
                .post, "/v1/entries", token: write, json: #"{"weight": 71, "recorded_on": "2024-01-03"}"#).status == .created)
            let renamed = try await client.send(.patch, "/v1/me", token: write, json: #"{"name": "Renamed"}"#)
            #expect(renamed.status == .ok, "a write token may change the name")
            let refused: [(HTTPRequest.Method, String, String?)] = [
                (.get, "/v1/me/tokens", nil), (.post, "/v1/me/tokens", #"{"name": "x", "scope": "read"}"#),
                (.delete, "/v1/me/tokens/6f1c1d3e-8a52-4a8e-9a4e-2b8f0f7d0c1a", nil),
                (.put, "/v1/me/password", #"{"current_password": "correct horse", "new_password": "other horse"}"#),
                (.patch, "/v1/me", #"{"email": "\#(uniqueEmail())"}"#), (.delete, "/v1/me", nil),
                (.delete, "/v1/tokens/current", nil),
            ]
            for (method, path, body) in refused {
                Self.expectInsufficientScope(try await client.send(method, path, token: write, json: body), "\(method) \(path)")
            }
            #expect(try await client.send(.get, "/v1/me", token: user.token).status == .ok, "the account is still there")
            #expect(try await client.send(.get, "/v1/me", token: write).status == .ok, "the token is still live")
        }
    }

    @Test func aRevokedTokenAnswers401AndOnlyTheOwnerCanRevokeIt() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let other = try await client.newUser()
            let personal = try await Self.create(client, user.token, scope: "write")
            #expect(try await client.send(.get, "/v1/me", token: personal.token).status == .ok)  // now cached
            expectProblem(try await client.send(.delete, "/v1/me/tokens/\(personal.id)", token: other.token), .notFound, "not_found")
            expectProblem(try await client.send(.delete, "/v1/me/tokens/not-a-uuid", token: user.token), .notFound, "not_found")
            expectProblem(
                try await client.send(.delete, "/v1/me/tokens/\(personal.id.replacingOccurrences(of: "-", with: ""))", token: user.token),
                .notFound, "not_found")
            #expect(try await client.send(.delete, "/v1/me/tokens/\(personal.id)", token: user.token).status == .noContent)
            expectUnauthorized(try await client.send(.get, "/v1/me", token: personal.token))
            expectProblem(try await client.send(.delete, "/v1/me/tokens/\(personal.id)", token: user.token), .notFound, "not_found")
            #expect(try await client.send(.get, "/v1/me", token: user.token).status == .ok)
        }
    }

    @Test func changingThePasswordRevokesPersonalTokensToo() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let personal = try await Self.create(client, user.token, scope: "write")
            let changed = try await client.send(
                .put, "/v1/me/password", token: user.token,
                json: #"{"current_password": "correct horse", "new_password": "another horse"}"#)
            #expect(changed.status == .noContent)
            expectUnauthorized(try await client.send(.get, "/v1/me", token: personal.token))
            #expect(try await client.send(.get, "/v1/me", token: user.token).status == .ok)
        }
    }

    @Test func aUserHasAtMostAHundredLiveTokensAndLogInStillWorksAtTheLimit() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            for index in 1...99 {
                let made = try await client.send(
                    .post, "/v1/me/tokens", token: user.token, json: #"{"name": "t\#(index)", "scope": "read"}"#)
                #expect(made.status == .created, "token \(index): \(made.status)")
            }
            expectProblem(
                try await client.send(.post, "/v1/me/tokens", token: user.token, json: #"{"name": "one more", "scope": "read"}"#),
                .conflict, "limit_reached")
            // Logging in again makes room by revoking the oldest log-in token: never more than 100 live.
            let again = try await client.logIn(email: user.email, password: "correct horse")
            #expect(again.status == .created)
            let id = UUID(uuidString: user.id)!
            #expect(try await TestDatabase.count(
                databaseURL, "SELECT count(*) AS n FROM auth_tokens WHERE user_id = \(id) AND expires_at > now()") == 100)
            expectUnauthorized(try await client.send(.get, "/v1/me", token: user.token), "the oldest log-in token")
            let newest = try #require(again.json["token"]?.stringValue)
            #expect(try await client.send(.get, "/v1/me/tokens", token: newest).json["tokens"]?.arrayValue?.count == 100)
        }
    }

    @Test func lastUsedAtIsWrittenOnFirstUseThenAtMostOnceAMinute() async throws {
        let statements = Mutex<[String]>([])
        try await TestApp.run(configure: { configuration in
            configuration.database.onStatement = { sql in statements.withLock { $0.append(sql.name ?? "") } }
        }) { client, databaseURL in
            let user = try await client.newUser()
            let personal = try await Self.create(client, user.token, scope: "read")
            try await client.waitForTokenCache()
            statements.withLock { $0.removeAll() }
            for _ in 0..<20 { #expect(try await client.send(.get, "/v1/me", token: personal.token).status == .ok) }
            let seen = statements.withLock { $0 }
            #expect(seen.filter { $0 == "tokens.authenticate" }.count == 1, "checked once, then from the cache: \(seen)")
            #expect(seen.filter { $0 == "users.get" }.count == 20, "one statement per request")
            let listed = try await client.send(.get, "/v1/me/tokens", token: user.token).json["tokens"]?.arrayValue ?? []
            let first = try #require(listed.first { $0["id"]?.stringValue == personal.id }?["last_used_at"]?.stringValue)
            #expect(abs((parseTimestamp(first) ?? .distantPast).timeIntervalSinceNow) < 60)
            // Used again and again within the minute: the sweep (every half second here) leaves it as it is.
            try await Task.sleep(for: .seconds(1.2))
            #expect(try await client.send(.get, "/v1/me", token: personal.token).status == .ok)
            try await Task.sleep(for: .seconds(1.2))
            let stored = try await TestDatabase.query(
                databaseURL, "SELECT last_used_at::text AS t FROM auth_tokens WHERE id = \(UUID(uuidString: personal.id)!)")
            #expect(try stored[0].decode(String.self, column: "t").isEmpty == false)
            let again = try await client.send(.get, "/v1/me/tokens", token: user.token).json["tokens"]?.arrayValue ?? []
            #expect(again.first { $0["id"]?.stringValue == personal.id }?["last_used_at"]?.stringValue == first)
            #expect(!statements.withLock { $0 }.contains("tokens.record_use"), "no write within the minute")
        }
    }

    @Test func theSweepRecordsALaterUseOncePerInterval() async throws {
        let statements = Mutex<[String]>([])
        try await TestApp.run(configure: { configuration in
            configuration.settings.service.tokenUseRecordInterval = .seconds(1)
            configuration.database.onStatement = { sql in statements.withLock { $0.append(sql.name ?? "") } }
        }) { client, _ in
            let user = try await client.newUser()
            let personal = try await Self.create(client, user.token, scope: "read")
            func lastUsed() async throws -> Date? {
                let listed = try await client.send(.get, "/v1/me/tokens", token: user.token).json["tokens"]?.arrayValue
                return (listed?.first { $0["id"]?.stringValue == personal.id }?["last_used_at"]?.stringValue)
                    .flatMap(parseTimestamp)
            }
            try await client.waitForTokenCache()
            #expect(try await client.send(.get, "/v1/me", token: personal.token).status == .ok)
            let first = try #require(try await lastUsed())
            statements.withLock { $0.removeAll() }
            try await Task.sleep(for: .seconds(1.5))
            for _ in 0..<10 { #expect(try await client.send(.get, "/v1/me", token: personal.token).status == .ok) }
            try await Task.sleep(for: .seconds(1.5))
            let second = try #require(try await lastUsed())
            #expect(second.timeIntervalSince(first) >= 1, "the later use was recorded: \(first) then \(second)")
            // The sweep records the later use; a request checks its token in the database (and may record the use
            // there) only if its cache entry was lost, which a slow machine can bring about: both count as writes.
            let writes = statements.withLock {
                $0.filter { $0 == "tokens.record_use" || $0 == "tokens.authenticate" }.count
            }
            #expect((1...2).contains(writes), "one write for ten uses (\(writes))")
        }
    }
}
