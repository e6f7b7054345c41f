import WeighinService
import WireFormats

extension OpenAPI {
    /// What the document says of one route (`Route.operation`): its id, words, parameters, body and the answers
    /// particular to it.
    ///
    /// The answers every route of a kind has are added from facts of the route, so no route lists them: 401 when it
    /// needs a token, 403 when it needs more than a `read` token, 429 and the rate limit's headers under `/v1/`,
    /// 400/413/415 for its body, 422 when it reads a body or a query, 500 always, and 503 when it uses the database.
    struct Operation: Sendable {
        /// The `operationId`: stable, since the fault tests' Schemathesis configuration names operations by it.
        let id: String
        let summary: String
        let description: String
        let tag: Tag
        let parameters: [Parameter]
        let body: RequestBody?
        let answers: [Answer]
        let usesDatabase: Bool

        /// The operation object of `route`.
        func json(_ route: Route) -> JSONValue {
            var answers = answers
            func add(_ shared: Answer) {
                if !answers.contains(where: { $0.status == shared.status }) { answers.append(shared) }
            }
            if let body {
                for problem in body.problems { add(.problem(problem)) }
            }
            // Every value of `Weighin-Position` is taken (one that is not a position reads from the primary).
            if body != nil || parameters.contains(where: { $0.location != "path" && $0 != .weighinPosition }) {
                add(.problem(.validationFailed))
            }
            if route.authenticated {
                add(.problem(.unauthorized))
                if route.requirement > .read { add(.problem(.insufficientScope)) }
            }
            // Writes of a user (registration and log-in too) answer their WAL position when standbys are set.
            if route.authenticated || route.carriesPersonalData, route.method != .get {
                answers = answers.map { $0.adding([.weighinPosition]) }
            }
            if route.path.hasPrefix("/v1/") {
                answers = answers.map(\.withRateLimitHeaders)
                add(.problem(.rateLimited))
            }
            add(.problem(.internalError))
            if usesDatabase { add(.problem(.unavailable)) }
            let description = route.authenticated
                ? description + " Requires `Authorization: Bearer <token>`." : description
            var members: [JSONObject.Member] = [
                (key: "operationId", value: .string(id)), (key: "summary", value: .string(summary)),
                (key: "description", value: .string(description)), (key: "tags", value: [.string(tag.rawValue)]),
                (key: "security", value: route.authenticated ? OpenAPI.bearer : []),
            ]
            if !parameters.isEmpty { members.append((key: "parameters", value: .array(parameters.map(\.ref)))) }
            if let body { members.append((key: "requestBody", value: body.json)) }
            let responses = answers.sorted { $0.status < $1.status }.map { (key: String($0.status), value: $0.json) }
            members.append((key: "responses", value: .object(JSONObject(responses))))
            return .object(JSONObject(members))
        }
    }

    /// The body an operation reads.
    enum RequestBody: Sendable {
        /// A JSON object of the component `Schema`.
        case json(Schema)
        /// An import: a JSON array of entries or CSV.
        case importRows

        /// The error answers reading this body may give besides 422.
        var problems: [ProblemResponse] {
            switch self {
            case .json: [.badRequest, .payloadTooLarge, .unsupportedMediaType]
            case .importRows: [.importBadRequest, .importPayloadTooLarge, .importUnsupportedMediaType]
            }
        }

        var json: JSONValue {
            switch self {
            case .json(let schema):
                return ["required": true, "content": ["application/json": ["schema": schema.ref]]]
            case .importRows:
                let example = ImportExportRoutes.csvHeader.joined(separator: ",") + "\r\n2026-11-26,80.5,kg,\r\n"
                return [
                    "required": true,
                    "content": [
                        "application/json": [
                            "schema": [
                                "type": "array", "maxItems": .integer(ImportBatch.limit),
                                "items": Schema.importEntry.ref,
                            ],
                        ],
                        "text/csv": ["schema": ["type": "string"], "example": .string(example)],
                    ],
                ]
            }
        }
    }
}
