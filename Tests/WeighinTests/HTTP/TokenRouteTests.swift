import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Postgres
import Testing
import WireFormats

/// HTTP: bearer tokens (issue, lifetime, storage, expiry, revocation) and authentication before anything else.
@Suite("HTTP: bearer tokens")
struct TokenRouteTests {
    static let ghost = "6f1c1d3e-8a52-4a8e-9a4e-2b8f0f7d0c1a"
    static let mebibyte = 1 << 20

    /// Every authenticated call of the contract, with a body where it takes one.
    static let authenticatedCalls: [(HTTPRequest.Method, String, String?)] = [
        (.get, "/v1/me", nil), (.patch, "/v1/me", #"{"name": "x"}"#),
        (.put, "/v1/me/password", #"{"current_password": "xxxxxxxxxx", "new_password": "yyyyyyyyyy"}"#),
        (.delete, "/v1/me", nil), (.delete, "/v1/tokens/current", nil),
        (.post, "/v1/entries", #"{"weight": 70, "recorded_on": "2020-01-01"}"#), (.get, "/v1/entries", nil),
        (.get, "/v1/entries/\(ghost)", nil), (.patch, "/v1/entries/\(ghost)", #"{"note": "x"}"#),
        (.delete, "/v1/entries/\(ghost)", nil), (.get, "/v1/entries/export", nil),
        (.post, "/v1/entries/import", #"[{"weight": 70, "unit": "kg", "recorded_on": "2020-01-01"}]"#),
        (.get, "/v1/stats", nil), (.get, "/v1/trend", nil),
    ]

    @Test func logInIssuesAnOpaqueBearerTokenForThirtyDays() async throws {
        try await TestApp.run { client, _ in
            let email = uniqueEmail()
            try await client.register(email: email, password: "correct horse")
            let first = try await client.logIn(email: email, password: "correct horse")
            let second = try await client.logIn(email: email, password: "correct horse")
            #expect(first.status == .created)
            let token = try #require(first.json["token"]?.stringValue)
            #expect(token.hasPrefix("wi_"))
            // At least 128 bits: 22 base64 characters or more after the prefix.
            #expect(token.count >= 3 + 22)
            #expect(token != second.json["token"]?.stringValue)
            #expect(first.json["token_type"]?.stringValue == "Bearer")
            let expires = try #require(parseTimestamp(first.json["expires_at"]?.stringValue ?? ""))
            let expected = Date().addingTimeInterval(30 * 86_400)
            #expect(abs(expires.timeIntervalSince(expected)) < 300, "expires_at \(expires)")
            #expect(try await client.send(.get, "/v1/me", token: token).status == .ok)
        }
    }

    @Test func tokenLifetimeIsConfigurable() async throws {
        try await TestApp.run(configure: { $0.settings.service.tokenLifetime = .seconds(3600) }) { client, _ in
            let email = uniqueEmail()
            try await client.register(email: email, password: "correct horse")
            let login = try await client.logIn(email: email, password: "correct horse")
            let expires = try #require(parseTimestamp(login.json["expires_at"]?.stringValue ?? ""))
            #expect(abs(expires.timeIntervalSince(Date().addingTimeInterval(3600))) < 300, "expires_at \(expires)")
        }
    }

    @Test func theDatabaseKeepsOnlyAHashOfTheToken() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let id = UUID(uuidString: user.id)!
            #expect(try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM auth_tokens WHERE user_id = \(id)") == 1)
            let secret = String(user.token.dropFirst(3))
            let rows = try await TestDatabase.count(
                databaseURL,
                """
                SELECT count(*) AS n FROM auth_tokens t
                WHERE t::text LIKE '%' || \(secret) || '%'
                   OR position(convert_to(\(user.token), 'UTF8') IN t.token_hash) > 0
                   OR encode(t.token_hash, 'escape') LIKE '%' || \(secret) || '%'
                """)
            #expect(rows == 0)
            // The hash is SHA-256 of the token's text, as PostgreSQL computes it too.
            let hashed = try await TestDatabase.count(
                databaseURL,
                "SELECT count(*) AS n FROM auth_tokens WHERE user_id = \(id) AND token_hash = sha256(convert_to(\(user.token), 'UTF8'))")
            #expect(hashed == 1)
        }
    }

    @Test func theLifetimeIsFixedFromLogInNotExtendedByUse() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let expiry: SQL = "SELECT expires_at::text AS t FROM auth_tokens WHERE user_id = \(UUID(uuidString: user.id)!)"
            let before = try await TestDatabase.query(databaseURL, expiry)[0].decode(String.self, column: "t")
            for _ in 0..<3 { #expect(try await client.send(.get, "/v1/me", token: user.token).status == .ok) }
            #expect(try await client.send(.patch, "/v1/me", token: user.token, json: #"{"name": "Used"}"#).status == .ok)
            let after = try await TestDatabase.query(databaseURL, expiry)[0].decode(String.self, column: "t")
            #expect(before == after)
        }
    }

    @Test func malformedAndUnknownTokensAre401() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            var altered = Array(user.token)
            let index = altered.count / 2
            altered[index] = altered[index] == "A" ? "B" : "A"
            let headers: [(String?, String)] = [
                (nil, "no Authorization"), ("Bearer", "scheme only"), ("Bearer ", "empty token"),
                ("Basic dXNlcjpwYXNzd29yZA==", "basic"), ("Token \(user.token)", "other scheme"),
                ("Bearer \(user.token) extra", "two words"), ("Bearer wi_short", "short"),
                ("Bearer not-a-token-\(UUID().uuidString)", "unknown"), ("Bearer \(user.token)x", "suffix"),
                ("Bearer \(String(user.token.dropLast()))", "truncated"), ("Bearer \(String(altered))", "altered"),
                ("Bearer wi_" + String(repeating: "A", count: 54), "well-formed but never issued"),
                (user.token, "no scheme"),
            ]
            for (header, label) in headers {
                var fields: HTTPFields = [:]
                if let header { fields[.authorization] = header }
                expectUnauthorized(try await client.send(.get, "/v1/me", headers: fields), label)
                expectUnauthorized(try await client.send(.get, "/v1/entries", headers: fields), label)
            }
            #expect(try await client.send(.get, "/v1/me", token: user.token).status == .ok)
        }
    }

    @Test func expiredTokensAre401() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            // Expire it before its first use.
            try await TestDatabase.query(
                databaseURL,
                "UPDATE auth_tokens SET expires_at = now() - interval '1 second' WHERE user_id = \(UUID(uuidString: user.id)!)")
            expectUnauthorized(try await client.send(.get, "/v1/me", token: user.token))
            expectUnauthorized(try await client.send(.get, "/v1/entries", token: user.token))
            let fresh = try await client.token(email: user.email, password: "correct horse")
            #expect(try await client.send(.get, "/v1/me", token: fresh).status == .ok)
        }
    }

    @Test func everyAuthenticatedCallNeedsAToken() async throws {
        try await TestApp.run { client, databaseURL in
            let unknown = "wi_" + String(repeating: "B", count: 54)
            for (method, path, body) in Self.authenticatedCalls {
                expectUnauthorized(try await client.send(method, path, json: body), "\(method) \(path) without a token")
                expectUnauthorized(try await client.send(method, path, token: unknown, json: body), "\(method) \(path) unknown")
            }
            #expect(try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM weight_entries") == 0)
        }
    }

    @Test func authenticationIsCheckedBeforeTheBody() async throws {
        try await TestApp.run { client, databaseURL in
            let owner = try await client.newUser()
            let entry = try await client.createEntry(owner.token, weight: "70", recordedOn: "2020-01-01", note: "untouched")
            let id = try #require(entry["id"]?.stringValue)
            let valid = Array(#"{"weight": 70, "recorded_on": "2020-01-06"}"#.utf8)
            let bodies: [(String, [UInt8], String?)] = [
                ("malformed JSON", Array(#"{"weight": 70,"#.utf8), "application/json"),
                ("NaN", Array(#"{"weight": NaN, "recorded_on": "2020-01-06"}"#.utf8), "application/json"),
                ("no Content-Type", valid, nil), ("text/plain", valid, "text/plain"),
                ("unknown field", Array(#"{"wieght": "x"}"#.utf8), "application/json"),
                ("over 1 MiB", Array(valid.dropLast()) + Array(repeating: UInt8(ascii: " "), count: Self.mebibyte) + [UInt8(ascii: "}")],
                 "application/json"),
                ("invalid UTF-8", [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0x31, 0x7D], "application/json"),
            ]
            let calls: [(HTTPRequest.Method, String)] = [
                (.patch, "/v1/me"), (.put, "/v1/me/password"), (.post, "/v1/entries"), (.patch, "/v1/entries/\(id)"),
                (.post, "/v1/entries/import"),
            ]
            for (method, path) in calls {
                for (label, body, type) in bodies {
                    for token in [nil, "wi_" + String(repeating: "C", count: 54)] as [String?] {
                        let response = try await client.sendBytes(method, path, token: token, body: body, contentType: type)
                        expectUnauthorized(response, "\(method) \(path) \(label) token \(token == nil ? "none" : "unknown")")
                    }
                }
            }
            // Queries are not looked at either.
            for uri in [
                "/v1/entries?limit=0&unit=stone&cursor=forged", "/v1/stats?from=2020-02-30&unit=stone",
                "/v1/trend?window=0&from=2020-01-02&to=2020-01-01", "/v1/entries/export?format=xml",
            ] {
                expectUnauthorized(try await client.send(.get, uri), uri)
            }
            // An import over 10 MiB.
            let big = Array("recorded_on,weight,unit,note\r\n".utf8)
                + Array(repeating: Array("2020-01-07,70,kg,\r\n".utf8), count: 10 * Self.mebibyte / 18 + 10).flatMap { $0 }
            #expect(big.count > 10 * Self.mebibyte)
            expectUnauthorized(try await client.sendBytes(.post, "/v1/entries/import", body: big, contentType: "text/csv"))

            #expect(try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM weight_entries") == 1)
            #expect(try await client.send(.get, "/v1/entries/\(id)", token: owner.token).json == entry)
            #expect(try await client.send(.get, "/v1/me", token: owner.token).json["name"]?.stringValue == "Test")
        }
    }

    @Test func tokensOnALiveServer() async throws {
        try await TestApp.run(.live) { client, databaseURL in
            let user = try await client.newUser()
            #expect(user.token.hasPrefix("wi_"))
            #expect(try await client.send(.get, "/v1/me", token: user.token).status == .ok)
            expectUnauthorized(try await client.send(.get, "/v1/me", token: user.token + "x"))
            expectUnauthorized(try await client.send(.get, "/v1/stats"))
            let other = try await client.token(email: user.email, password: "correct horse")
            try await TestDatabase.query(
                databaseURL,
                """
                UPDATE auth_tokens SET expires_at = now() - interval '1 second'
                WHERE user_id = \(UUID(uuidString: user.id)!) AND created_at = (SELECT max(created_at) FROM auth_tokens)
                """)
            expectUnauthorized(try await client.send(.get, "/v1/me", token: other))
            #expect(try await client.send(.delete, "/v1/tokens/current", token: user.token).status == .noContent)
            expectUnauthorized(try await client.send(.get, "/v1/me", token: user.token))
        }
    }
}
