import WeighinService
import WireFormats

/// The schemas of personal access tokens: what `POST /v1/me/tokens` reads, and the tokens it and the list answer.
extension OpenAPI.Schema {
    static var personalTokenCreateDefinition: JSONValue {
        object(
            [
                "name": trimmedName(TokenRules.nameLength),
                "scope": [
                    "type": "string", "enum": .strings(TokenScope.allCases.map(\.rawValue)),
                    "description": "`read`: every `GET`/`HEAD` on the user's data; `write`: changing it too.",
                ],
                "expires_in_days": [
                    "type": "integer", "minimum": .integer(TokenRules.expiryDays.lowerBound),
                    "maximum": .integer(TokenRules.expiryDays.upperBound),
                    "description": .string("Lifetime in days; default \(TokenRules.defaultExpiryDays)."),
                ],
            ], required: ["name", "scope"])
    }

    /// A listed token (`TokenSummary`), or with `created` the answer that makes one, which adds the token itself.
    static func tokenSummaryDefinition(created: Bool) -> JSONValue {
        var properties: JSONObject = [
            "id": ["type": "string", "format": "uuid"],
            "name": [
                "type": ["string", "null"],
                "description": "The name given at creation; null for a log-in token.",
            ],
            "scope": ["type": "string", "enum": .strings(TokenScope.allCases.map(\.rawValue))],
            "created_at": timestamp("RFC 3339 in UTC with `Z`."),
            "expires_at": timestamp("When the token stops working."),
            "last_used_at": [
                "type": ["string", "null"], "format": "date-time",
                "description": .string("""
                    When the token was last used, written at most once every \
                    \(OpenAPI.spoken(ServiceConfiguration().tokenUseRecordInterval)); null if never.
                    """),
            ],
        ]
        var required = ["id", "name", "scope", "created_at", "expires_at", "last_used_at"]
        if created {
            properties.members.append((
                key: "token",
                value: [
                    "type": "string", "minLength": 1,
                    "description": "The bearer token, shown in this answer only (the server keeps its hash).",
                ]
            ))
            required.append("token")
        }
        return object(properties, required: required)
    }

    static var tokenListDefinition: JSONValue {
        object(
            ["tokens": ["type": "array", "items": Self.tokenSummary.ref]], required: ["tokens"],
            description: "Every live token of the user, log-in tokens included, oldest first; never a secret.")
    }
}
