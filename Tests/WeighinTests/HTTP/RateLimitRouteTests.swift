import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
@testable import WeighinHTTP

/// HTTP: each client's request budget (a token bucket per bearer token, per address without one): 429
/// `rate_limited` with `Retry-After` over it, `RateLimit-Policy` and `RateLimit` on every answer of the API, one
/// client over budget slowing nobody else.
@Suite("HTTP: rate limits")
struct RateLimitRouteTests {
    static func tight(rate: Int = 1, burst: Int = 3) -> (inout AppConfiguration) -> Void {
        { configuration in
            configuration.settings.rateLimit = rate
            configuration.settings.rateBurst = burst
        }
    }

    @Test func aTokenOverItsBudgetGets429WithRetryAfterAndTheHeadersTellWhatIsLeft() async throws {
        try await TestApp.run(configure: Self.tight(burst: 5)) { client, _ in
            // Four calls without a token (two sign-ups, two log-ins) from the router's one address.
            let alice = try await client.newUser().token
            let bob = try await client.newUser().token
            var remaining: [String] = []
            for _ in 0..<5 {
                let answer = try await client.send(.get, "/v1/me", token: alice)
                #expect(answer.status == .ok)
                #expect(answer.headers[.init("RateLimit-Policy")!] == #""default";q=5;w=5"#)
                remaining.append(answer.headers[.init("RateLimit")!] ?? "")
            }
            #expect(remaining == (0..<5).map { #""default";r=\#(4 - $0);t=\#($0 + 1)"# }, "\(remaining)")
            let refused = try await client.send(.post, "/v1/entries", token: alice, json: #"{"weight": 70, "recorded_on": "2024-01-01"}"#)
            expectProblem(refused, .tooManyRequests, "rate_limited")
            #expect(Int(refused.headers[.retryAfter] ?? "") == 1)
            #expect(refused.headers[.init("RateLimit")!] == #""default";r=0;t=5"#)
            #expect(refused.headers[.init("RateLimit-Policy")!] != nil)
            // Another user's budget is untouched, and nothing was stored for the refused call.
            #expect(try await client.send(.get, "/v1/entries", token: bob).status == .ok)
            try await Task.sleep(for: .seconds(1.1))
            let listed = try await client.send(.get, "/v1/entries", token: alice)
            #expect(listed.status == .ok, "one request came back after a second")
            #expect(listed.json["entries"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test func operationsRoutesAreNotCounted() async throws {
        try await TestApp.run(configure: Self.tight(burst: 1)) { client, _ in
            for _ in 0..<5 {
                let health = try await client.send(.get, "/healthz")
                #expect(health.status == .ok)
                #expect(health.headers[.init("RateLimit")!] == nil)
            }
        }
    }

    /// The budget refills at one request a second, so the three calls must come within a second: a machine that
    /// stalls longer between them (seen in CI rehearsals under disk pressure) refills a token, and the attempt is
    /// made again on a fresh application, up to three times.
    @Test func callsWithoutATokenShareTheirAddressBudgetOverARealConnection() async throws {
        for attempt in 1...3 {
            let checked = try await TestApp.gate.withPermit {
                let (app, _) = try await TestApp.make(Self.tight(burst: 2))
                return try await app.test(.live) { client -> Bool in
                    let body = #"{"email": "nobody@example.com", "password": "wrong password"}"#
                    let start = ContinuousClock.now
                    let first = try await client.send(.post, "/v1/tokens", json: body)
                    let second = try await client.send(.post, "/v1/tokens", json: body)
                    let third = try await client.send(.post, "/v1/users", json: #"{"email": "a@example.com"}"#)
                    guard start.duration(to: .now) < .seconds(1) || attempt == 3 else { return false }
                    #expect(first.status == .unauthorized)
                    #expect(second.status == .unauthorized)
                    #expect(second.headers[.init("RateLimit")!] == #""default";r=0;t=2"#)
                    expectProblem(third, .tooManyRequests, "rate_limited")
                    #expect(third.headers[.retryAfter] == "1")
                    return true
                }
            }
            if checked { return }
        }
    }
}

/// `RateLimiter` by itself: refill arithmetic, shards, idle buckets dropped, memory bounded.
@Suite("Limits: token buckets")
struct RateLimiterTests {
    @Test func aBucketRefillsAtItsRateUpToItsBurst() {
        let limiter = RateLimiter(rate: 10, burst: 5)
        let key = limiter.key("token a")
        let start = ContinuousClock.now
        for left in (0..<5).reversed() {
            let decision = limiter.take(key, now: start)
            #expect(decision.allowed && decision.remaining == left)
        }
        let refused = limiter.take(key, now: start)
        #expect(!refused.allowed && refused.retryAfter == 1 && refused.resetSeconds == 1)
        #expect(limiter.take(key, now: start + .milliseconds(150)).allowed, "a tenth of a second brings one back")
        #expect(limiter.take(key, now: start + .seconds(100)).remaining == 4, "never more than the burst")
        #expect(limiter.take(limiter.key("token b"), now: start).remaining == 4, "keys are apart")
    }

    @Test func idleBucketsAreDroppedAndATableNeverOutgrowsItsShare() {
        let limiter = RateLimiter(rate: 1, burst: 2, shardCount: 4, capacity: 64)
        let start = ContinuousClock.now
        for index in 0..<1_000 { _ = limiter.take(limiter.key("client \(index)"), now: start) }
        #expect(limiter.count <= 64, "\(limiter.count) buckets")
        limiter.sweep(now: start + .seconds(2))
        #expect(limiter.count == 0, "full again, so gone")
    }
}
