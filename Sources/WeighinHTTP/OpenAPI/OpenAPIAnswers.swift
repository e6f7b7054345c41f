import WireFormats

extension OpenAPI {
    /// An answer an operation documents itself: a success, or an error answer particular to it (the answers every
    /// operation of its kind has are added by `Operation`).
    enum Answer: Sendable {
        /// A success with a body or with none.
        case success(status: Int, description: String, content: JSONValue?, headers: [Header], links: JSONValue?)
        /// 204 with no body.
        case noContent
        /// An error answer.
        case problem(ProblemResponse)

        /// A success with a JSON body of the component `schema` (200 unless given).
        static func json(
            _ description: String, _ schema: Schema, status: Int = 200, headers: [Header] = [], links: JSONValue? = nil
        ) -> Answer {
            .success(
                status: status, description: description, content: ["application/json": ["schema": schema.ref]],
                headers: headers, links: links)
        }

        /// 304: the client's copy (`If-None-Match`) is current.
        static let notModified = Answer.success(
            status: 304, description: "The tag in `If-None-Match` is the answer's: no body.", content: nil,
            headers: [.eTag], links: nil)

        /// A success whose body is given by media type (200).
        static func content(_ description: String, _ content: JSONValue) -> Answer {
            .success(status: 200, description: description, content: content, headers: [], links: nil)
        }

        var status: Int {
            switch self {
            case .success(let status, _, _, _, _): status
            case .noContent: 204
            case .problem(let problem): problem.kind.status
            }
        }

        /// The response object, or a reference to a component response.
        var json: JSONValue {
            switch self {
            case .success(_, let description, let content, let headers, let links):
                var members: [JSONObject.Member] = [
                    (key: "description", value: .string(description)), (key: "headers", value: Header.object(headers)),
                ]
                if let content { members.append((key: "content", value: content)) }
                if let links { members.append((key: "links", value: links)) }
                return .object(JSONObject(members))
            case .noContent:
                return OpenAPI.ref("responses", Self.noContentName)
            case .problem(let problem):
                return problem.ref
            }
        }

        static let noContentName = "NoContent"

        /// The component response of `noContent` (only calls under `/v1/` answer it, so it has the rate limit's
        /// headers).
        static var noContentDefinition: JSONValue {
            ["description": "Done; no body.", "headers": Header.object([.rateLimitPolicy, .rateLimit])]
        }

        /// This answer with the rate limit's headers when it is a success of its own (calls under `/v1/`).
        var withRateLimitHeaders: Answer {
            adding([.rateLimitPolicy, .rateLimit])
        }

        /// This answer with `extra` headers when it is a success of its own.
        func adding(_ extra: [Header]) -> Answer {
            guard case .success(let status, let description, let content, let headers, let links) = self else {
                return self
            }
            return .success(
                status: status, description: description, content: content, headers: headers + extra, links: links)
        }
    }

    /// The response headers answers name (component headers).
    enum Header: String, CaseIterable, Sendable {
        case requestID = "XRequestId"
        case retryAfter = "RetryAfter"
        case wwwAuthenticate = "WWWAuthenticate"
        case entryLocation = "EntryLocation"
        case eTag = "ETag"
        case rateLimitPolicy = "RateLimitPolicy"
        case rateLimit = "RateLimit"
        case weighinPosition = "WeighinPosition"

        /// The header's HTTP name.
        var name: String {
            switch self {
            case .requestID: "X-Request-ID"
            case .retryAfter: "Retry-After"
            case .wwwAuthenticate: "WWW-Authenticate"
            case .entryLocation: "Location"
            case .eTag: "ETag"
            case .rateLimitPolicy: "RateLimit-Policy"
            case .rateLimit: "RateLimit"
            case .weighinPosition: "Weighin-Position"
            }
        }

        var definition: JSONValue {
            let (description, schema): (String, JSONValue) =
                switch self {
                case .requestID: (
                    """
                    Identifier of this request (also in logs and as `request_id` in problem bodies). Present on every \
                    response.
                    """,
                    ["type": "string", "minLength": 1]
                )
                case .retryAfter: ("Whole seconds to wait before retrying.", ["type": "integer", "minimum": 0])
                case .wwwAuthenticate: (
                    "Always `Bearer` (possibly with parameters).",
                    ["type": "string", "pattern": #"^[Bb][Ee][Aa][Rr][Ee][Rr]\b"#]
                )
                case .eTag: (
                    """
                    Strong tag of this answer: it changes whenever the answer would (the display unit included); send \
                    it in `If-None-Match` (reads) or `If-Match` (writes of the entry).
                    """,
                    ["type": "string", "pattern": #"^"[A-Za-z0-9_-]+"$"#]
                )
                case .rateLimitPolicy: (
                    """
                    The client's request budget (IETF httpapi-ratelimit-headers): a token bucket of `q` requests that \
                    refills in `w` seconds, `"default";q=1000;w=10` by default. On every answer under `/v1/`.
                    """,
                    ["type": "string", "pattern": #"^"default";q=[0-9]+;w=[0-9]+$"#]
                )
                case .rateLimit: (
                    """
                    What is left of the budget: `r` requests now, and `t` seconds until the bucket is full again, \
                    e.g. `"default";r=999;t=1`. On every answer under `/v1/`.
                    """,
                    ["type": "string", "pattern": #"^"default";r=[0-9]+;t=[0-9]+$"#]
                )
                case .weighinPosition: (
                    """
                    With read replicas (`--read-database-url`) only: the primary's WAL position at or after this \
                    write's commit (`16/B374D848`). Send the newest one received as `Weighin-Position` on reads, so \
                    that they reflect the write on any instance.
                    """,
                    ["type": "string", "pattern": "^[0-9A-F]{1,8}/[0-9A-F]{1,8}$"]
                )
                case .entryLocation: (
                    "Path of the new entry: `/v1/entries/{id}`.",
                    ["type": "string", "pattern": .string("^/v1/entries/" + Self.uuidPattern + "$")]
                )
                }
            // `Weighin-Position` is sent only when read replicas are set.
            return ["description": .string(description), "required": .bool(self != .weighinPosition), "schema": schema]
        }

        /// A UUID in the hyphenated 36-character form.
        private static let uuidPattern = "[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"

        /// The `headers` of a response: `X-Request-ID` (on every answer), then `extra`.
        static func object(_ extra: [Header]) -> JSONValue {
            let headers = [.requestID] + extra
            return .object(JSONObject(headers.map { (key: $0.name, value: OpenAPI.ref("headers", $0.rawValue)) }))
        }
    }
}
