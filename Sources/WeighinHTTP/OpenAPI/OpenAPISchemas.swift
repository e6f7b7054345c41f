import Foundation
import WeighinService
import WireFormats

extension OpenAPI {
    /// The component schemas of answers and request bodies (problem bodies are `ProblemResponse`'s).
    enum Schema: String, CaseIterable, Sendable {
        case user = "User"
        case entry = "Entry"
        case entryList = "EntryList"
        case token = "Token"
        case tokenSummary = "TokenSummary"
        case createdToken = "CreatedToken"
        case tokenList = "TokenList"
        case datedWeight = "DatedWeight"
        case stats = "Stats"
        case trendPoint = "TrendPoint"
        case trend = "Trend"
        case goal = "Goal"
        case goalProgress = "GoalProgress"
        case goalSet = "GoalSet"
        case change = "Change"
        case changeList = "ChangeList"
        case webhook = "Webhook"
        case webhookCreated = "WebhookCreated"
        case webhookList = "WebhookList"
        case webhookDelivery = "WebhookDelivery"
        case webhookDeliveryList = "WebhookDeliveryList"
        case importResult = "ImportResult"
        case fieldError = "FieldError"
        case problem = "Problem"
        case userCreate = "UserCreate"
        case userUpdate = "UserUpdate"
        case credentials = "Credentials"
        case passwordChange = "PasswordChange"
        case personalTokenCreate = "PersonalTokenCreate"
        case entryCreate = "EntryCreate"
        case entryUpdate = "EntryUpdate"
        case entryPut = "EntryPut"
        case webhookCreate = "WebhookCreate"
        case importEntry = "ImportEntry"
        case health = "Health"
        case ready = "Ready"

        /// Every schema, by name.
        static var components: JSONObject {
            JSONObject(allCases.map { (key: $0.rawValue, value: $0.definition) })
        }

        /// A reference to this schema.
        var ref: JSONValue {
            OpenAPI.ref("schemas", rawValue)
        }

        var definition: JSONValue {
            switch self {
            case .user: Self.userDefinition
            case .entry: Self.entryDefinition
            case .entryList: Self.entryListDefinition
            case .token: Self.tokenDefinition
            case .tokenSummary: Self.tokenSummaryDefinition(created: false)
            case .createdToken: Self.tokenSummaryDefinition(created: true)
            case .tokenList: Self.tokenListDefinition
            case .datedWeight: Self.datedWeightDefinition
            case .stats: Self.statsDefinition
            case .trendPoint: Self.trendPointDefinition
            case .trend: Self.trendDefinition
            case .goal: Self.goalDefinition
            case .goalProgress: Self.goalProgressDefinition
            case .goalSet: Self.goalSetDefinition
            case .change: Self.changeDefinition
            case .changeList: Self.changeListDefinition
            case .webhook: Self.webhookDefinition(withSecret: false)
            case .webhookCreated: Self.webhookDefinition(withSecret: true)
            case .webhookList: Self.listDefinition("webhooks", of: .webhook, "Oldest first.")
            case .webhookDelivery: Self.webhookDeliveryDefinition
            case .webhookDeliveryList: Self.listDefinition("deliveries", of: .webhookDelivery, "Newest first.")
            case .importResult: Self.object(["imported": ["type": "integer", "minimum": 0]], required: ["imported"])
            case .fieldError: Self.fieldErrorDefinition
            case .problem: Self.problemDefinition
            case .userCreate: Self.userCreateDefinition
            case .userUpdate: Self.userUpdateDefinition
            case .credentials: Self.credentialsDefinition
            case .passwordChange: Self.passwordChangeDefinition
            case .personalTokenCreate: Self.personalTokenCreateDefinition
            case .entryCreate: Self.entryDefinition(required: true)
            case .entryUpdate: Self.entryDefinition(required: false)
            case .entryPut: Self.entryPutDefinition
            case .webhookCreate: Self.webhookCreateDefinition
            case .importEntry: Self.importEntryDefinition
            case .health: Self.status("ok")
            case .ready: Self.status("ready")
            }
        }

        /// An object schema; `closed` forbids members it does not name, and `also` adds keywords (`if`/`then`).
        static func object(
            _ properties: JSONObject, required: [String] = [], closed: Bool = true, description: String? = nil,
            also keywords: JSONObject = [:]
        ) -> JSONValue {
            var members: [JSONObject.Member] = [(key: "type", value: "object")]
            if let description { members.append((key: "description", value: .string(description))) }
            if !required.isEmpty { members.append((key: "required", value: .strings(required))) }
            if closed { members.append((key: "additionalProperties", value: false)) }
            members.append((key: "properties", value: .object(properties)))
            return .object(JSONObject(members + keywords.members))
        }

        /// `{"status": value}`, what `/healthz` and `/readyz` answer.
        private static func status(_ value: String) -> JSONValue {
            object(["status": ["type": "string", "const": .string(value)]], required: ["status"], closed: false)
        }

        private static var fieldErrorDefinition: JSONValue {
            object(
                [
                    "field": [
                        "type": "string",
                        "description": """
                            The body member, query parameter (`limit`, `cursor`, `unit`, `window`, `method`, \
                            `smoothing`, `slope_smoothing`, `daily`, `from`, `to`, `format`), path parameter \
                            (`client_record_id`), header (`Idempotency-Key`) or import column at fault; an unknown \
                            body member is named itself.
                            """,
                    ],
                    "message": ["type": "string"],
                ], required: ["field", "message"], closed: false)
        }

        /// The shape of every problem answer, with every code; each documented error answer narrows it.
        private static var problemDefinition: JSONValue {
            OpenAPI.ProblemResponse.schema(
                status: ["type": "integer", "minimum": 400, "maximum": 599],
                codes: ProblemCode.allCases, fieldErrors: true, row: true,
                description: """
                    RFC 9457 problem details (`application/problem+json`). `code` is stable and machine-readable; \
                    `status` equals the HTTP status. Nothing internal is ever exposed. Every documented error answer \
                    has a schema of its own that names its status and codes.
                    """)
        }
    }
}
