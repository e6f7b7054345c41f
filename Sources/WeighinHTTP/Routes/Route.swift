import HTTPTypes
import Hummingbird
import WeighinService

/// One call of the API: method, path (OpenAPI form, `/v1/entries/{id}`), whether it needs a bearer token and what
/// of the token, what the OpenAPI document says of it, and its handler.
///
/// The router and the OpenAPI document are both built from `RouteTable.all`, so every route served is documented and
/// every documented route is served.
struct Route: Sendable {
    typealias Handler = @Sendable (Request, AppRequestContext) async throws -> Response

    let method: HTTPRequest.Method
    let path: String
    let authenticated: Bool
    /// What an authenticated route needs of the token: `read` for `GET` (and `HEAD`), `write` for other methods,
    /// unless the route asks for more. Checked before the body is read.
    let requirement: AccessRequirement
    /// Whether a public route's answer carries a token or the user's data (then `Cache-Control: no-store`, as every
    /// authenticated answer).
    let carriesPersonalData: Bool
    /// Whether it is for operators (readiness, metrics): with an ops listener (`--ops-port`) it is served there only.
    let operational: Bool
    let operation: OpenAPI.Operation
    /// The handler, taken from the route groups that hold what handlers need.
    let handler: @Sendable (RouteGroups) -> Handler

    /// - Parameters:
    ///   - id: the OpenAPI `operationId`.
    ///   - answers: the successes and the error answers particular to this route (see `OpenAPI.Operation`).
    ///   - access: what the token needs beyond what the method does (`.logIn`: no personal token).
    ///   - usesDatabase: whether it can answer 503 for want of the database.
    init(
        _ method: HTTPRequest.Method, _ path: String, authenticated: Bool, access: AccessRequirement? = nil,
        carriesPersonalData: Bool = false,
        operational: Bool = false, id: String, summary: String,
        tag: OpenAPI.Tag, description: String, parameters: [OpenAPI.Parameter] = [], body: OpenAPI.RequestBody? = nil,
        answers: [OpenAPI.Answer], usesDatabase: Bool = true,
        _ handler: @escaping @Sendable (RouteGroups) -> Handler
    ) {
        self.method = method
        self.path = path
        self.authenticated = authenticated
        self.requirement = access ?? (method == .get || method == .head ? .read : .write)
        self.carriesPersonalData = carriesPersonalData
        self.operational = operational
        self.operation = OpenAPI.Operation(
            id: id, summary: summary, description: description, tag: tag, parameters: parameters, body: body,
            answers: answers, usesDatabase: usesDatabase)
        self.handler = handler
    }

    /// The path in Hummingbird's form (`/v1/entries/:id`).
    var routerPath: String {
        path.replacingOccurrences(of: "{", with: ":").replacingOccurrences(of: "}", with: "")
    }
}

/// The values whose methods handle requests, one per group of routes, each holding what its handlers need.
struct RouteGroups: Sendable {
    let accounts: AccountRoutes
    let entries: EntryRoutes
    let importExport: ImportExportRoutes
    let statistics: StatisticsRoutes
    let goals: GoalRoutes
    let changes: ChangeRoutes
    let webhooks: WebhookRoutes
    let tokens: TokenRoutes
    let operations: OperationsRoutes
}

/// A set of routes.
struct RouteTable: Sendable {
    /// Every route of the application, in the order the router adds them.
    static let all = RouteTable(
        routes: AccountRoutes.routes + EntryRoutes.routes + ImportExportRoutes.routes + StatisticsRoutes.routes
            + GoalRoutes.routes + TokenRoutes.routes + ChangeRoutes.routes + WebhookRoutes.routes
            + OperationsRoutes.routes)

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
