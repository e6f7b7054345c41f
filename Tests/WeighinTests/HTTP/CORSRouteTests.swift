import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
@testable import WeighinHTTP

/// HTTP: browsers on the configured origins (`--cors-origin`): a preflight answered before the rate limit and any
/// route, CORS headers on every answer to an allowed origin (errors and 429 included, so the page can read them), none
/// for other origins or without a configured one.
@Suite("HTTP: CORS")
struct CORSRouteTests {
    static let origin = "https://app.example"

    static func allowing(_ origins: [String], burst: Int = 1_000_000) -> (inout AppConfiguration) -> Void {
        { configuration in
            configuration.settings.corsOrigins = origins
            configuration.settings.rateLimit = 1
            configuration.settings.rateBurst = burst
        }
    }

    @Test func aPreflightFromAnAllowedOriginIsAnsweredWithoutTheRateLimitOrARoute() async throws {
        try await TestApp.run(configure: Self.allowing([Self.origin], burst: 1)) { client, _ in
            for _ in 0..<3 {
                let preflight = try await client.send(
                    .options, "/v1/entries",
                    headers: [.origin: Self.origin, .accessControlRequestMethod: "POST"])
                #expect(preflight.status == .noContent)
                #expect(preflight.headers[.accessControlAllowOrigin] == Self.origin)
                #expect(preflight.headers[.accessControlAllowMethods] == "GET, POST, PUT, PATCH, DELETE")
                #expect(preflight.headers[.accessControlAllowHeaders]?.contains("Authorization") == true)
                #expect(preflight.headers[.accessControlMaxAge] == "600")
                #expect(preflight.headers[.init("RateLimit")!] == nil, "preflights take nothing of the budget")
                #expect(preflight.headers[.requestID] != nil)
            }
            // The budget of one is still whole: the first call goes through, the second is refused, and both
            // carry the CORS headers so that the page sees the 429.
            let first = try await client.send(.get, "/v1/me", headers: [.origin: Self.origin])
            expectProblem(first, .unauthorized, "unauthorized")
            #expect(first.headers[.accessControlAllowOrigin] == Self.origin)
            let refused = try await client.send(.get, "/v1/me", headers: [.origin: Self.origin])
            expectProblem(refused, .tooManyRequests, "rate_limited")
            #expect(refused.headers[.accessControlAllowOrigin] == Self.origin)
            #expect(refused.headers[.accessControlExposeHeaders]?.contains("Retry-After") == true)
            #expect(refused.headers[.vary] == "Origin")
        }
    }

    @Test func answersToAnAllowedOriginCarryTheHeadersAndOthersGetNone() async throws {
        try await TestApp.run(configure: Self.allowing([Self.origin, "https://other.example"])) { client, _ in
            let user = try await client.newUser()
            let allowed = try await client.send(.get, "/v1/entries", token: user.token, headers: [.origin: Self.origin])
            #expect(allowed.status == .ok)
            #expect(allowed.headers[.accessControlAllowOrigin] == Self.origin, "the origin itself, not *")
            #expect(allowed.headers[.cacheControl] == "no-store")
            let stranger = try await client.send(
                .get, "/v1/entries", token: user.token, headers: [.origin: "https://evil.example"])
            #expect(stranger.status == .ok)
            #expect(stranger.headers[.accessControlAllowOrigin] == nil)
            let preflight = try await client.send(
                .options, "/v1/entries", headers: [.origin: "https://evil.example", .accessControlRequestMethod: "GET"])
            #expect(preflight.headers[.accessControlAllowOrigin] == nil, "no preflight answer for other origins")
        }
    }

    @Test func withoutConfiguredOriginsNoAnswerCarriesCORSHeaders() async throws {
        try await TestApp.run(configure: Self.allowing([])) { client, _ in
            let health = try await client.send(.get, "/healthz", headers: [.origin: Self.origin])
            #expect(health.status == .ok && health.headers[.accessControlAllowOrigin] == nil)
            let preflight = try await client.send(
                .options, "/v1/entries", headers: [.origin: Self.origin, .accessControlRequestMethod: "GET"])
            #expect(preflight.status != .noContent && preflight.headers[.accessControlAllowOrigin] == nil)
        }
    }

    @Test func anyOriginIsAnsweredWithAStar() async throws {
        try await TestApp.run(configure: Self.allowing(["*"])) { client, _ in
            let answer = try await client.send(.get, "/healthz", headers: [.origin: "https://anyone.example"])
            #expect(answer.headers[.accessControlAllowOrigin] == "*")
        }
    }
}
