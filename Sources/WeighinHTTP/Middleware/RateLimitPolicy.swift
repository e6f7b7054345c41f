import HTTPTypes
import Hummingbird

extension HTTPField.Name {
    static let rateLimitPolicy = HTTPField.Name("RateLimit-Policy")!
    static let rateLimit = HTTPField.Name("RateLimit")!
}

/// Holds each client to its request budget (`RateLimiter`) on the API's calls (`/v1/...`), before anything else of
/// the request is looked at: over budget, the answer is 429 `rate_limited` with `Retry-After`, and the token is not
/// even checked. The key is the bearer token of the `Authorization` header when there is one, else the client's
/// address.
///
/// Every answer of the API carries the IETF httpapi-ratelimit-headers fields: `RateLimit-Policy` (the bucket as a
/// quota of `burst` requests per `burst / rate` seconds) and `RateLimit` (requests `r` left and seconds `t` until the
/// bucket is full again).
struct RateLimitPolicy: Sendable {
    let limiter: RateLimiter
    /// `RateLimit-Policy`'s value, the same on every answer.
    let policy: String

    init(limiter: RateLimiter) {
        self.limiter = limiter
        let window = Int((limiter.burst / limiter.rate).rounded(.up))
        policy = #""default";q=\#(Int(limiter.burst));w=\#(window)"#
    }

    /// Takes one request from the client's budget: the decision for an API call, nil for any other path.
    func take(_ request: Request, _ context: AppRequestContext) -> RateLimiter.Decision? {
        guard request.uri.path.hasPrefix("/v1/") else { return nil }
        return limiter.take(limiter.key(Self.client(request, context)))
    }

    /// The answer to a request over budget.
    static func refusal(_ decision: RateLimiter.Decision, requestID: String) -> Response {
        Problem.rateLimited(
            retryAfter: decision.retryAfter,
            detail: "Too many requests from this client; try again after Retry-After seconds."
        ).response(requestID: requestID)
    }

    /// Adds the rate limit's headers to an API call's answer.
    func stamp(_ response: inout Response, _ decision: RateLimiter.Decision) {
        response.headers[.rateLimitPolicy] = policy
        response.headers[.rateLimit] = #""default";r=\#(decision.remaining);t=\#(decision.resetSeconds)"#
    }

    /// What identifies the client: the whole `Authorization` value when it is there (a bearer token; anything else
    /// answers 401 anyway, under the same budget), else the address the connection comes from.
    static func client(_ request: Request, _ context: AppRequestContext) -> String {
        if let authorization = request.headers[.authorization] { return "token " + authorization }
        return "address " + (context.remoteAddress?.ipAddress ?? "unknown")
    }
}
