import HTTPTypes
import Hummingbird

/// One call of the API: method, path (OpenAPI form, `/v1/entries/{id}`), whether it needs a bearer token, and its
/// handler. The router is built from these, and tests compare them with the OpenAPI document.
struct Route: Sendable {
    let method: HTTPRequest.Method
    let path: String
    let authenticated: Bool
    let handler: @Sendable (Request, AppRequestContext) async throws -> Response

    init(
        _ method: HTTPRequest.Method, _ path: String, authenticated: Bool,
        _ handler: @escaping @Sendable (Request, AppRequestContext) async throws -> Response
    ) {
        self.method = method
        self.path = path
        self.authenticated = authenticated
        self.handler = handler
    }

    /// The path in Hummingbird's form (`/v1/entries/:id`).
    var routerPath: String {
        path.replacingOccurrences(of: "{", with: ":").replacingOccurrences(of: "}", with: "")
    }
}

/// Every route of the application.
struct RouteTable: Sendable {
    let routes: [Route]

    /// The methods served at a concrete path, matching like the router: a constant segment beats a `{parameter}`.
    func methods(forPath path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        var best: (score: Int, methods: [HTTPRequest.Method]) = (-1, [])
        for route in routes {
            let pattern = route.path.split(separator: "/", omittingEmptySubsequences: true)
            guard pattern.count == segments.count else { continue }
            var score = 0
            var matches = true
            for (expected, actual) in zip(pattern, segments) {
                if expected.hasPrefix("{") {
                    continue
                } else if expected == actual {
                    score += 1
                } else {
                    matches = false
                    break
                }
            }
            guard matches else { continue }
            if score > best.score {
                best = (score, [route.method])
            } else if score == best.score {
                best.methods.append(route.method)
            }
        }
        var methods = best.methods
        if methods.contains(.get) { methods.append(.head) }
        return methods
    }

    /// The route label for metrics and logs: the pattern in OpenAPI form, or `unmatched` (bounded label values).
    static func label(forEndpoint endpoint: String?) -> String {
        guard let endpoint, endpoint.hasPrefix("/") else { return "unmatched" }
        // Once per request: most paths have no parameter, and need no rewriting.
        guard endpoint.utf8.contains(UInt8(ascii: ":")) else { return endpoint }
        return endpoint.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix(":") ? "{" + segment.dropFirst() + "}" : String(segment)
        }.joined(separator: "/")
    }
}
