import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import Testing
import WeighinHTTP

/// Two instances on one database behave as one service: tokens, revocations, profile changes and the failed-login
/// limit cross between them, revocations within a second.
@Suite("Operations: several instances on one database")
struct MultiInstanceTests {
    /// Runs `body` with live clients of two applications on one database.
    func withTwoInstances(
        _ body: @Sendable (any TestClientProtocol, any TestClientProtocol) async throws -> Void
    ) async throws {
        let url = try await TestCluster.makeDatabase()
        func make() async throws -> some ApplicationProtocol {
            try await buildApplication(
                AppConfiguration(
                    settings: TestApp.settings(poolSize: 2), database: try PostgresConfiguration(conninfo: url),
                    migrations: TestCluster.migrations))
        }
        let first = try await make()
        let second = try await make()
        try await first.test(.live) { a in
            try await second.test(.live) { b in
                // Both token caches must be on (their listeners connected), or the test would prove nothing.
                for client in [a, b] { try await client.waitForTokenCache() }
                try await body(a, b)
            }
        }
    }

    /// Polls `condition` until it holds, for at most one second (the contract's bound for revocations).
    func within1s(_ condition: () async throws -> Bool) async throws -> Bool {
        try await within(.seconds(1), condition)
    }

    @Test func tokensAndRevocationsCrossInstances() async throws {
        try await withTwoInstances { a, b in
            let user = try await a.newUser()
            // Issued by A, works on B, and is then served from B's cache.
            #expect(try await b.send(.get, "/v1/me", token: user.token).status == .ok)
            #expect(try await b.send(.get, "/v1/me", token: user.token).status == .ok)
            let metrics = try await b.send(.get, "/metrics").text
            let hits = metrics.split(separator: "\n").first { $0.hasPrefix(#"weighin_token_cache_lookups{result="hit"}"#) }
            #expect(hits.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0 >= 1, "B served the token from its cache")
            // Log-out on A takes effect on B within a second.
            try await a.send(.delete, "/v1/tokens/current", token: user.token)
            #expect(try await within1s { try await b.send(.get, "/v1/me", token: user.token).status == .unauthorized })

            // A password change on A revokes the user's other tokens on B; the changing token keeps working.
            let login = #"{"email": "\#(user.email)", "password": "correct horse"}"#
            let keep = try #require(try await a.send(.post, "/v1/tokens", json: login).json["token"]?.stringValue)
            let other = try #require(try await b.send(.post, "/v1/tokens", json: login).json["token"]?.stringValue)
            #expect(try await b.send(.get, "/v1/me", token: other).status == .ok)
            #expect(try await b.send(.get, "/v1/me", token: keep).status == .ok)
            let changed = try await a.send(
                .put, "/v1/me/password", token: keep,
                json: #"{"current_password": "correct horse", "new_password": "new horse battery"}"#)
            #expect(changed.status == .noContent)
            #expect(try await within1s { try await b.send(.get, "/v1/me", token: other).status == .unauthorized })
            #expect(try await b.send(.get, "/v1/me", token: keep).status == .ok)

            // A profile change on A shows on B at once (the display unit is cached with the token).
            try await b.send(.post, "/v1/entries", token: keep, json: #"{"weight": 80, "recorded_on": "2024-01-01"}"#)
            try await a.send(.patch, "/v1/me", token: keep, json: #"{"weight_unit": "lb"}"#)
            #expect(try await within1s {
                let listed = try await b.send(.get, "/v1/entries", token: keep)
                return listed.json["entries"]?.arrayValue?.first?["unit"]?.stringValue == "lb"
            })

            // Deleting the account on A revokes everything on B.
            try await a.send(.delete, "/v1/me", token: keep)
            #expect(try await within1s { try await b.send(.get, "/v1/me", token: keep).status == .unauthorized })
        }
    }

    @Test func aRevokedPersonalTokenAnswers401OnTheOtherInstanceWithinASecond() async throws {
        try await withTwoInstances { a, b in
            let user = try await a.newUser()
            let made = try await a.send(.post, "/v1/me/tokens", token: user.token, json: #"{"name": "x", "scope": "read"}"#)
            let token = try #require(made.json["token"]?.stringValue)
            let id = try #require(made.json["id"]?.stringValue)
            #expect(try await b.send(.get, "/v1/me", token: token).status == .ok)
            #expect(try await b.send(.get, "/v1/me", token: token).status == .ok)  // from B's cache
            #expect(try await a.send(.delete, "/v1/me/tokens/\(id)", token: user.token).status == .noContent)
            #expect(try await within1s { try await b.send(.get, "/v1/me", token: token).status == .unauthorized })
            #expect(try await b.send(.get, "/v1/me", token: user.token).status == .ok)
        }
    }

    @Test func theFailedLoginLimitCountsAcrossInstances() async throws {
        try await withTwoInstances { a, b in
            let user = try await a.newUser()
            let wrong = #"{"email": "\#(user.email)", "password": "wrong password"}"#
            for index in 0..<10 {
                let client = index.isMultiple(of: 2) ? a : b
                #expect(try await client.send(.post, "/v1/tokens", json: wrong).status == .unauthorized)
            }
            let right = #"{"email": "\#(user.email)", "password": "correct horse"}"#
            let locked = try await a.send(.post, "/v1/tokens", json: right)
            #expect(locked.status == .tooManyRequests)
            #expect(try await b.send(.post, "/v1/tokens", json: right).status == .tooManyRequests)
            #expect(Int(locked.headers[.retryAfter] ?? "") != nil)
        }
    }
}
