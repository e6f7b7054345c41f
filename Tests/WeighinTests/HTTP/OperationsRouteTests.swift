import Foundation
import HTTPTypes
import HummingbirdTesting
import Migrations
import NIOCore
import Postgres
import Testing
import WeighinService
import WireFormats
@testable import WeighinHTTP

/// HTTP: health, readiness, metrics, the OpenAPI document, request ids and the problem JSON of every error status.
@Suite("HTTP: health, readiness, metrics and the OpenAPI document")
struct OperationsRouteTests {
    /// The 20 calls of the contract (API.md), as "METHOD /path".
    static let contractCalls: Set<String> = [
        "POST /v1/users", "POST /v1/tokens", "DELETE /v1/tokens/current", "GET /v1/me", "PATCH /v1/me", "PUT /v1/me/password",
        "DELETE /v1/me", "POST /v1/entries", "GET /v1/entries", "GET /v1/entries/{id}", "PATCH /v1/entries/{id}",
        "DELETE /v1/entries/{id}", "GET /v1/entries/export", "POST /v1/entries/import", "GET /v1/stats", "GET /v1/trend",
        "GET /healthz", "GET /readyz", "GET /metrics", "GET /openapi.json",
        // Part 2
        "PUT /v1/goal", "GET /v1/goal", "DELETE /v1/goal", "GET /v1/goal/progress",
        "GET /v1/changes", "PUT /v1/entries/by-client-id/{client_record_id}",
        "POST /v1/webhooks", "GET /v1/webhooks", "DELETE /v1/webhooks/{id}", "GET /v1/webhooks/{id}/deliveries",
        "POST /v1/me/tokens", "GET /v1/me/tokens", "DELETE /v1/me/tokens/{id}",
    ]

    struct Sample {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    /// The samples of a Prometheus text exposition; nil when a line is not a valid sample or comment.
    static func samples(_ text: String) -> [Sample]? {
        let line = try! NSRegularExpression(
            pattern: #"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:\s*[a-zA-Z_][a-zA-Z0-9_]*\s*=\s*"(?:[^"\\]|\\.)*"\s*,?)*\s*\})?\s+([-+]?(?:[0-9.]+(?:[eE][-+]?[0-9]+)?|NaN|\+?Inf|-Inf))(\s+-?\d+)?$"#)
        let label = try! NSRegularExpression(pattern: #"([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)""#)
        var samples: [Sample] = []
        for raw in text.split(separator: "\n") where !raw.hasPrefix("#") && !raw.trimmingCharacters(in: .whitespaces).isEmpty {
            let text = String(raw)
            let whole = NSRange(text.startIndex..., in: text)
            guard let match = line.firstMatch(in: text, range: whole) else { return nil }
            let name = String(text[Range(match.range(at: 1), in: text)!])
            var labels: [String: String] = [:]
            if let range = Range(match.range(at: 2), in: text) {
                let part = String(text[range])
                for found in label.matches(in: part, range: NSRange(part.startIndex..., in: part)) {
                    labels[String(part[Range(found.range(at: 1), in: part)!])] = String(part[Range(found.range(at: 2), in: part)!])
                }
            }
            let valueText = String(text[Range(match.range(at: 3), in: text)!]).replacingOccurrences(of: "+Inf", with: "inf")
            samples.append(Sample(name: name, labels: labels, value: Double(valueText.replacingOccurrences(of: "Inf", with: "inf")) ?? .nan))
        }
        return samples
    }

    static func metrics(_ client: some TestClientProtocol) async throws -> (text: String, samples: [Sample]) {
        let response = try await client.send(.get, "/metrics")
        #expect(response.status == .ok)
        let type = response.headers[.contentType] ?? ""
        #expect(type.hasPrefix("text/plain") || type.hasPrefix("application/openmetrics-text"), "\(type)")
        let samples = try #require(Self.samples(response.text), "not Prometheus text: \(response.text.prefix(500))")
        return (response.text, samples)
    }

    static func requestCount(_ samples: [Sample], _ method: String, _ route: String, _ status: String) -> Double? {
        samples.first {
            $0.name == "weighin_http_requests_total" && $0.labels == ["method": method, "route": route, "status": status]
        }?.value
    }

    @Test func healthAndReadiness() async throws {
        let (app, _) = try await TestApp.make()
        try await app.test(.router) { client in
            let health = try await client.send(.get, "/healthz")
            #expect(health.status == .ok)
            #expect(health.json["status"]?.stringValue == "ok")
            #expect(health.headers[.init("X-Request-ID")!] != nil)
            let ready = try await client.send(.get, "/readyz")
            #expect(ready.status == .ok)
        }
    }

    @Test func readinessIs503WhenTheSchemaIsBehind() async throws {
        let future = Migration(version: 9999, name: "from_the_future", sql: "SELECT 1")
        try await TestApp.run(configure: { $0.migrations.append(future) }) { client, _ in
            let ready = try await client.send(.get, "/readyz")
            expectProblem(ready, .serviceUnavailable, "unavailable")
            let retry = ready.headers[.retryAfter] ?? ""
            #expect(Int(retry).map { $0 >= 0 } == true, "Retry-After \(retry)")
            #expect(try await client.send(.get, "/healthz").status == .ok)
        }
    }

    @Test func metricsCountRequestsByRoutePatternAndTimeThem() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let ghost = UUID().uuidString.lowercased()
            _ = try await client.send(.get, "/healthz")
            _ = try await client.send(.get, "/v1/me")
            // Three times: the series is made once and counted each time.
            for _ in 0..<3 { _ = try await client.send(.get, "/v1/entries/\(ghost)", token: user.token) }
            try await client.createEntry(user.token, weight: "70", recordedOn: "2020-01-01")
            let (text, samples) = try await Self.metrics(client)

            let requests = samples.filter { $0.name == "weighin_http_requests_total" }
            #expect(!requests.isEmpty)
            for sample in requests {
                #expect(Set(sample.labels.keys) == ["method", "route", "status"], "\(sample.labels)")
                #expect(sample.labels["status"].map { $0.count == 3 && Int($0) != nil } == true)
                #expect(sample.value >= 0)
                #expect(!(sample.labels["route"] ?? "").contains(ghost), "a raw id as a route label")
            }
            for (method, route, status) in [("GET", "/healthz", "200"), ("GET", "/v1/me", "401"), ("GET", "/v1/entries/{id}", "404"),
                                            ("POST", "/v1/entries", "201"), ("POST", "/v1/users", "201"), ("POST", "/v1/tokens", "201")] {
                #expect((Self.requestCount(samples, method, route, status) ?? 0) >= 1, "\(method) \(route) \(status)")
            }
            #expect(Self.requestCount(samples, "GET", "/v1/entries/{id}", "404") == 3)
            #expect(samples.contains {
                $0.name == "weighin_http_request_duration_seconds_count"
                    && $0.labels == ["method": "GET", "route": "/v1/entries/{id}"] && $0.value == 3
            })

            #expect(text.split(separator: "\n").contains("# TYPE weighin_http_request_duration_seconds histogram"))
            let buckets = samples.filter { $0.name == "weighin_http_request_duration_seconds_bucket" }
            #expect(!buckets.isEmpty)
            for sample in buckets { #expect(Set(sample.labels.keys) == ["method", "route", "le"], "\(sample.labels)") }
            for suffix in ["_sum", "_count"] {
                let series = samples.filter { $0.name == "weighin_http_request_duration_seconds" + suffix }
                #expect(!series.isEmpty)
                for sample in series { #expect(Set(sample.labels.keys) == ["method", "route"], "\(suffix) \(sample.labels)") }
            }
            #expect(buckets.contains {
                $0.labels == ["method": "GET", "route": "/healthz", "le": "+Inf"] && $0.value >= 1
            })
            #expect(buckets.contains { $0.labels["route"] == "/v1/entries/{id}" && $0.labels["method"] == "GET" })

            let pool = samples.filter { $0.name == "weighin_db_pool_connections" }
            for sample in pool {
                #expect(Set(sample.labels.keys) == ["state"])
                #expect(sample.value >= 0)
            }
            #expect(Set(pool.compactMap { $0.labels["state"] }).isSuperset(of: ["idle", "busy"]))

            // Each request counts once.
            let before = Self.requestCount(samples, "GET", "/healthz", "200") ?? 0
            _ = try await client.send(.get, "/healthz")
            let after = Self.requestCount(try await Self.metrics(client).samples, "GET", "/healthz", "200") ?? 0
            #expect(after == before + 1)
        }
    }

    @Test func theOpenAPIDocumentDescribesExactlyTheRoutesTheRouterServes() async throws {
        // The routes of the router `weighin serve` builds.
        let url = try await TestCluster.makeDatabase()
        let database = try PostgresConfiguration(conninfo: url)
        let pool = PostgresPool(configuration: .init(connection: database, size: 1, acquireTimeout: .seconds(5), maxWaiters: 16))
        defer { pool.close() }
        let services = try await WeighinServices(pool: pool, configuration: TestApp.service)
        let configuration = AppConfiguration(
            settings: TestApp.settings(poolSize: 1), database: database, migrations: TestCluster.migrations)
        let router = buildRouter(services: services, configuration: configuration, metrics: AppMetrics())
        let served = Set(router.routes.filter { $0.method != .head }.map { "\($0.method.rawValue) \($0.path.description)" })
        #expect(served.count == router.routes.filter { $0.method != .head }.count)

        try await TestApp.run { client, _ in
            let response = try await client.send(.get, "/openapi.json")
            #expect(response.status == .ok)
            #expect(response.mediaType == "application/json")
            let document = response.json
            #expect(document["openapi"]?.stringValue?.hasPrefix("3.1") == true)
            #expect(document["info"]?.objectValue != nil)
            let paths = try #require(document["paths"]?.objectValue)
            var documented = Set<String>()
            let methods = ["get", "put", "post", "patch", "delete", "options", "head", "trace"]
            for (path, item) in paths.members {
                for key in item.objectValue?.keys ?? [] where methods.contains(key) {
                    documented.insert("\(key.uppercased()) \(path)")
                    #expect(item[key]?["responses"]?.objectValue?.isEmpty == false, "\(key) \(path) documents no responses")
                }
            }
            // The web app's pages are served beside the API and left out of its document.
            let pages = Set(WebPages.paths.map { "GET \($0)" })
            #expect(served.isSuperset(of: pages))
            let operations = served.subtracting(pages)
            #expect(operations == documented, "served but undocumented: \(operations.subtracting(documented)); documented but not served: \(documented.subtracting(operations))")
            #expect(documented.subtracting(["HEAD /healthz", "HEAD /readyz"]) == Self.contractCalls,
                    "missing: \(Self.contractCalls.subtracting(documented)); extra: \(documented.subtracting(Self.contractCalls))")
            // Every documented call is routed (not an unknown route).
            for call in documented {
                let parts = call.split(separator: " ")
                let method = HTTPRequest.Method(String(parts[0]))!
                let path = String(parts[1]).replacingOccurrences(of: "{id}", with: UUID().uuidString.lowercased())
                let answer = try await client.send(method, path, json: method == .get || method == .delete ? nil : "{}")
                #expect(answer.json["code"]?.stringValue != "method_not_allowed", "\(call)")
                #expect(!(answer.status == .notFound && !path.hasPrefix("/v1/entries/")), "\(call) is not routed")
            }
        }
    }

    @Test func everyAnswerCarriesARequestID() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let ghost = UUID().uuidString.lowercased()
            let requests: [(HTTPRequest.Method, String, String?, String?)] = [
                (.get, "/healthz", nil, nil), (.get, "/v1/me", user.token, nil), (.get, "/v1/me", nil, nil),
                (.get, "/v1/entries/\(ghost)", user.token, nil), (.put, "/v1/entries", user.token, "{}"),
                (.post, "/v1/entries", user.token, #"{"weight": 0, "recorded_on": "2020-01-01"}"#),
                (.post, "/v1/entries", user.token, "{"), (.post, "/v1/entries", user.token, #"{"weight": 70, "recorded_on": "2020-01-01"}"#),
                (.get, "/nowhere", nil, nil), (.get, "/metrics", nil, nil), (.get, "/openapi.json", nil, nil),
                (.delete, "/v1/entries/\(ghost)", user.token, nil), (.get, "/v1/entries/export", user.token, nil),
            ]
            var ids = Set<String>()
            for (method, path, token, body) in requests {
                let response = try await client.send(method, path, token: token, json: body)
                let id = response.headers[.init("X-Request-ID")!] ?? ""
                #expect(!id.isEmpty, "\(method) \(path) \(response.status)")
                ids.insert(id)
            }
            #expect(ids.count == requests.count, "request ids repeat")
            for given in ["trace-abc-123", "0af7651916cd43dd8448eb211c80319c", "req_42.X"] {
                for (path, token) in [("/healthz", nil), ("/v1/me", nil), ("/v1/me", user.token), ("/v1/nowhere", nil)] as [(String, String?)] {
                    let response = try await client.send(.get, path, token: token, headers: [.init("X-Request-ID")!: given])
                    #expect(response.headers[.init("X-Request-ID")!] == given, "\(path): \(response.status)")
                }
            }
        }
    }

    @Test func everyErrorStatusAnswersProblemJSON() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let ghost = UUID().uuidString.lowercased()
            let cases: [(HTTPRequest.Method, String, String?, [UInt8]?, String?, HTTPResponse.Status, String)] = [
                (.post, "/v1/entries", user.token, Array("{".utf8), "application/json", .badRequest, "malformed_json"),
                (.post, "/v1/entries/import", user.token, Array("a,b\r\n\"x".utf8), "text/csv", .badRequest, "malformed_csv"),
                (.get, "/v1/me", nil, nil, nil, .unauthorized, "unauthorized"),
                (.post, "/v1/tokens", nil, Array(#"{"email": "\#(user.email)", "password": "wrong password"}"#.utf8),
                 "application/json", .unauthorized, "invalid_credentials"),
                (.put, "/v1/me/password", user.token, Array(#"{"current_password": "wrong password", "new_password": "new password"}"#.utf8),
                 "application/json", .forbidden, "invalid_credentials"),
                (.get, "/v1/entries/\(ghost)", user.token, nil, nil, .notFound, "not_found"),
                (.get, "/nowhere", nil, nil, nil, .notFound, "not_found"),
                (.delete, "/v1/stats", user.token, nil, nil, .methodNotAllowed, "method_not_allowed"),
                (.post, "/v1/users", nil, Array(#"{"email": "\#(user.email)", "name": "X", "password": "correct horse"}"#.utf8),
                 "application/json", .conflict, "email_taken"),
                (.post, "/v1/entries", user.token, Array(#"{"note": ""#.utf8) + Array(repeating: UInt8(ascii: "n"), count: 1 << 20)
                    + Array(#""}"#.utf8), "application/json", .contentTooLarge, "payload_too_large"),
                (.post, "/v1/entries", user.token, Array("{}".utf8), "text/plain", .unsupportedMediaType, "unsupported_media_type"),
                (.post, "/v1/entries", user.token, Array("{}".utf8), "application/json", .unprocessableContent, "validation_failed"),
            ]
            for (method, path, token, body, type, status, code) in cases {
                var headers: HTTPFields = [:]
                if let token { headers[.authorization] = "Bearer \(token)" }
                if let type { headers[.contentType] = type }
                let response = try await client.execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(bytes: $0) })
                let problem = expectProblem(response, status, code, "\(method) \(path)")
                #expect(problem["type"]?.stringValue.map { !$0.isEmpty } == true)
            }
            // 422 idempotency_key_reused.
            let keyed: HTTPFields = [.init("Idempotency-Key")!: "k"]
            _ = try await client.send(.post, "/v1/entries", token: user.token, json: #"{"weight": 70, "recorded_on": "2020-01-01"}"#, headers: keyed)
            expectProblem(try await client.send(.post, "/v1/entries", token: user.token, json: #"{"weight": 71, "recorded_on": "2020-01-01"}"#,
                                                headers: keyed), .unprocessableContent, "idempotency_key_reused")
            // 429 too_many_attempts.
            for _ in 0..<10 { _ = try await client.logIn(email: user.email, password: "wrong") }
            let locked = try await client.logIn(email: user.email, password: "correct horse")
            expectProblem(locked, .tooManyRequests, "too_many_attempts")
            #expect(locked.headers[.retryAfter] != nil)
        }
    }

    @Test func noDatabaseConnectionInTimeIs503WithRetryAfterNotAHang() async throws {
        try await TestApp.run(configure: {
            $0.settings.poolSize = 1
            // Long enough for the set-up's requests on a loaded machine (300 ms once failed a sign-up there).
            $0.settings.poolTimeout = .seconds(3)
        }) { client, databaseURL in
            let user = try await client.newUser()
            #expect(try await client.send(.get, "/v1/entries", token: user.token).status == .ok)
            // Hold a lock that an idempotent create (a transaction on the only connection) will wait for.
            let locker = try await PostgresConnection.connect(try PostgresConfiguration(conninfo: databaseURL))
            defer { locker.close() }
            try await locker.query("BEGIN")
            try await locker.query("LOCK TABLE idempotency_keys IN ACCESS EXCLUSIVE MODE")
            let blocked = Task {
                try await client.send(
                    .post, "/v1/entries", token: user.token, json: #"{"weight": 70, "recorded_on": "2020-01-01"}"#,
                    headers: [.init("Idempotency-Key")!: "blocked"])
            }
            var waiting = 0
            for _ in 0..<200 where waiting == 0 {
                waiting = try await locker.query("""
                    SELECT count(*) AS n FROM pg_locks
                    WHERE NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                    """)[0].decode(Int.self, column: "n")
                if waiting == 0 { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(waiting > 0, "the create never reached the lock")
            let started = ContinuousClock.now
            let starved = try await client.send(.get, "/v1/entries", token: user.token)
            let elapsed = started.duration(to: .now)
            try await locker.query("ROLLBACK")
            expectProblem(starved, .serviceUnavailable, "unavailable")
            let retry = starved.headers[.retryAfter] ?? ""
            #expect(Int(retry).map { $0 >= 1 } == true, "Retry-After \(retry)")
            #expect(elapsed < .seconds(30), "answered after \(elapsed)")
            // Once the lock is gone, everything proceeds.
            #expect(try await blocked.value.status == .created)
            #expect(try await client.send(.get, "/v1/entries", token: user.token).status == .ok)
        }
    }

    @Test func anUnexpectedFailureIs500WithNothingInternalInTheBody() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            try await TestDatabase.query(databaseURL, "ALTER TABLE weight_entries RENAME TO weight_entries_elsewhere")
            let response = try await client.send(.get, "/v1/entries", token: user.token)
            let problem = expectProblem(response, .internalServerError, "internal_error")
            for word in ["weight_entries", "relation", "SELECT", "42P01", "Postgres", "postgres", "SQL", ".swift", "Error("] {
                #expect(!response.text.contains(word), "\(word) in \(response.text)")
            }
            #expect(problem.keys.isSubset(of: ["type", "title", "status", "detail", "code", "request_id", "instance"]), "\(problem)")
            #expect(try await client.send(.get, "/healthz").status == .ok)
        }
    }

    @Test func operationsOnALiveServer() async throws {
        try await TestApp.run(.live) { client, _ in
            #expect(try await client.send(.get, "/healthz").status == .ok)
            #expect(try await client.send(.get, "/readyz").status == .ok)
            let echoed = try await client.send(.get, "/healthz", headers: [.init("X-Request-ID")!: "live-trace-1"])
            #expect(echoed.headers[.init("X-Request-ID")!] == "live-trace-1")
            expectUnauthorized(try await client.send(.get, "/v1/me"))
            let (_, samples) = try await Self.metrics(client)
            #expect((Self.requestCount(samples, "GET", "/healthz", "200") ?? 0) >= 2)
            #expect((Self.requestCount(samples, "GET", "/v1/me", "401") ?? 0) >= 1)
            let document = try await client.send(.get, "/openapi.json").json
            #expect(document["openapi"]?.stringValue?.hasPrefix("3.1") == true)
            expectProblem(try await client.send(.post, "/healthz", json: "{}"), .methodNotAllowed, "method_not_allowed")
        }
    }
}
