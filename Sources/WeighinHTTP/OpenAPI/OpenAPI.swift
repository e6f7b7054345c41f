import Foundation
import WeighinService
import WireFormats

/// The OpenAPI 3.1 document of the API, served at `/openapi.json` and printed by `weighin openapi`.
///
/// It is built from the routes the router serves (`RouteTable.all`, each with its operation) and from the constants
/// the code enforces, so the document cannot drift from the server.
public enum OpenAPI {
    /// The document as compact JSON text.
    public static func render() -> [UInt8] {
        var writer = JSONWriter()
        writer.write(document())
        return writer.bytes
    }

    /// The document: paths from `RouteTable.all`, the router's routes.
    static func document() -> JSONValue {
        var paths: [(key: String, value: JSONObject)] = []
        for route in RouteTable.all.routes {
            let operation = (key: route.method.rawValue.lowercased(), value: route.operation.json(route))
            if let index = paths.firstIndex(where: { $0.key == route.path }) {
                paths[index].value.members.append(operation)
            } else {
                paths.append((key: route.path, value: JSONObject([operation])))
            }
        }
        return [
            "openapi": "3.1.0",
            "info": [
                "title": "weighin",
                "version": "1.0.0",
                "summary": "Weight-tracking HTTP API.",
                "description": .string(description),
            ],
            "tags": .array(Tag.allCases.map { ["name": .string($0.rawValue), "description": .string($0.description)] }),
            "security": bearer,
            "paths": .object(JSONObject(paths.map { (key: $0.key, value: .object($0.value)) })),
            "components": [
                "securitySchemes": [
                    "bearer": [
                        "type": "http", "scheme": "bearer",
                        "description": "`Authorization: Bearer <token>` with a token from POST /v1/tokens.",
                    ],
                ],
                "schemas": .object(JSONObject(Schema.components.members + ProblemResponse.schemaComponents.members)),
                "parameters": .object(JSONObject(Parameter.allCases.map { (key: $0.rawValue, value: $0.definition) })),
                "headers": .object(JSONObject(Header.allCases.map { (key: $0.rawValue, value: $0.definition) })),
                "responses": .object(
                    JSONObject(
                        [(key: Answer.noContentName, value: Answer.noContentDefinition)]
                            + ProblemResponse.responseComponents.members)),
            ],
        ]
    }

    /// The security requirement of an authenticated operation (and the document's default).
    static let bearer: JSONValue = [["bearer": []]]

    /// The groups operations are listed under.
    enum Tag: String, CaseIterable, Sendable {
        case accounts, tokens, entries, stats, goals, sync, webhooks, operations

        var description: String {
            switch self {
            case .accounts: "Registration, log-in and the current user."
            case .tokens: "Personal access tokens for programs, with a scope; and the list of live tokens."
            case .entries: "Weight entries."
            case .stats: "Statistics and trends."
            case .goals: "A target weight, and the progress towards it."
            case .sync: "Keeping devices' copies in step: the change feed and writes by the device's own id."
            case .webhooks: "Signed HTTP posts of every change to the user's entries, and their delivery log."
            case .operations: "Health, readiness, metrics and this document."
            }
        }
    }

    /// The rules every call shares.
    static var description: String {
        let poundShown = Weight(value: Decimal(string: "180.2")!, unit: .lb).shown(in: .kg)
        let kilogramsShown = Weight(value: 80, unit: .kg).shown(in: .lb)
        return """
            JSON in and out, UTF-8. A JSON endpoint given a body with another or no Content-Type answers 415; \
            a body that is not valid JSON answers 400; JSON that breaks a rule (including unknown members and \
            numbers out of range) answers 422. Authentication is checked first: a request without a valid token \
            answers 401 whatever its body, size or query. Every error is RFC 9457 problem JSON \
            (`application/problem+json`). An unknown route answers 404 `not_found`, a known route with another \
            method 405 `method_not_allowed`. Timestamps are RFC 3339 in UTC with `Z`; dates are `YYYY-MM-DD`; \
            lengths are counted in Unicode code points. Bodies over \(Limits.text(Limits.jsonBody)) answer 413 \
            (import: \(Limits.text(Limits.importBody))). Units are `kg` and `lb` (`lbs` accepted on input as \
            `lb`); 1 lb = \(WeightUnit.kilogramsPerPound) kg exactly. Weights have at most \
            \(EntryRules.weightPlaces) decimal places; an answer shows weights in the display unit (the `unit` \
            query parameter, else the user's `weight_unit`): exactly as entered when that is the entered unit, \
            otherwise converted and rounded half away from zero to \(EntryRules.weightPlaces) decimals (180.2 lb \
            shows as \(poundShown) kg; 80 kg as \(kilogramsShown) lb). A request that cannot get a database \
            connection in time answers 503 `unavailable` with `Retry-After`. Every response carries `X-Request-ID`. \
            For people, the server also serves this document as a readable reference at `/docs` and a web app \
            built on these calls at `/`: pages, not operations, and so not listed here.
            Personal access tokens (`/v1/me/tokens`) have a scope: a `read` token may only `GET`/`HEAD`, anything \
            else answers 403 `insufficient_scope` before the body is read; token management, the password, the email \
            and account deletion need a log-in token. Each client (bearer token, else address) has a request budget \
            per instance: \(ServeSettings().rateLimit) requests per second with bursts of \(ServeSettings().rateBurst) \
            by default; over it, 429 `rate_limited` with `Retry-After`. Every answer under `/v1/` carries \
            `RateLimit-Policy` and `RateLimit` (IETF httpapi-ratelimit-headers).
            """
    }

    /// A reference to the component `name` of `kind` (`schemas`, `parameters`, `headers`, `responses`), with the
    /// description of what it types when given.
    static func ref(_ kind: String, _ name: String, description: String? = nil) -> JSONValue {
        var members: [JSONObject.Member] = [(key: "$ref", value: .string("#/components/\(kind)/\(name)"))]
        if let description { members.append((key: "description", value: .string(description))) }
        return .object(JSONObject(members))
    }

    /// A whole number of the code's, as people read it: `100,000`.
    static func grouped(_ value: Int) -> String {
        let digits = Array(String(value))
        return String(digits.enumerated().flatMap { index, digit in
            index > 0 && (digits.count - index) % 3 == 0 ? [",", digit] : [digit]
        })
    }

    /// A duration of the code's, as people read it: in the largest unit that counts it whole and more than once
    /// (`30 days`, `24 hours`, `15 minutes`), else in seconds.
    static func spoken(_ duration: Duration) -> String {
        let seconds = duration.wholeSeconds
        for (unit, length) in [("days", 86_400), ("hours", 3600), ("minutes", 60)]
        where seconds % length == 0 && seconds / length > 1 {
            return "\(seconds / length) \(unit)"
        }
        return "\(seconds) seconds"
    }
}

extension JSONValue {
    /// A JSON number from a whole number the code enforces.
    static func integer(_ value: Int) -> JSONValue {
        .number(JSONNumber(value))
    }

    /// A JSON number from an exact decimal the code enforces.
    static func decimal(_ value: Decimal) -> JSONValue {
        .number(JSONNumber(value)!)
    }

    /// A JSON array of strings.
    static func strings(_ values: [String]) -> JSONValue {
        .array(values.map(JSONValue.string))
    }
}

