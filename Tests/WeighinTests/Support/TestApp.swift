import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Postgres
import Synchronization
import Testing
import WeighinHTTP
import WeighinService
import WireFormats

/// Applications for route tests, each on a fresh migrated database, built by the same `buildApplication` as
/// `weighin serve`.
enum TestApp {
    /// A fast hash cost: tests check behaviour, not bcrypt's cost.
    static let service = ServiceConfiguration(passwordHashCost: 4, hashingThreads: 2)

    /// The settings of a test application: any free port, a small pool, fast hashing, no access log.
    static func settings(poolSize: Int = 4) -> ServeSettings {
        var settings = ServeSettings()
        settings.port = 0
        settings.poolSize = poolSize
        settings.service = service
        settings.accessLog = false
        return settings
    }

    /// The application and its database URL.
    static func make(
        _ configure: (inout AppConfiguration) -> Void = { _ in }
    ) async throws -> (app: some ApplicationProtocol, databaseURL: String) {
        let url = try await TestCluster.makeDatabase()
        var configuration = AppConfiguration(
            settings: settings(), database: try PostgresConfiguration(conninfo: url), migrations: TestCluster.migrations)
        configure(&configuration)
        return (try await buildApplication(configuration), url)
    }
}

extension TestClientProtocol {
    /// Sends a request with an optional bearer token and JSON body text.
    @discardableResult
    func send(
        _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, json: String? = nil,
        headers: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = headers
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return try await execute(
            uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }

    /// Registers a new account with a unique email and logs in; returns its token and id.
    func newUser(weightUnit: String = "kg", password: String = "correct horse") async throws
        -> (token: String, id: String, email: String)
    {
        let email = "u-\(UUID().uuidString.prefix(12).lowercased())@example.com"
        let registered = try await send(
            .post, "/v1/users",
            json: #"{"email": "\#(email)", "name": "Test", "password": "\#(password)", "weight_unit": "\#(weightUnit)"}"#)
        guard registered.status == .created else { throw TestFailure("register answered \(registered.status)") }
        let login = try await send(.post, "/v1/tokens", json: #"{"email": "\#(email)", "password": "\#(password)"}"#)
        guard login.status == .created, let token = login.json["token"]?.stringValue,
            let id = registered.json["id"]?.stringValue
        else { throw TestFailure("log-in answered \(login.status)") }
        return (token, id, email)
    }
}

extension TestResponse {
    /// The body parsed as JSON (`.null` when it is not JSON).
    var json: JSONValue {
        (try? body.withUnsafeReadableBytes { try JSONParser.parse($0) }) ?? .null
    }

    /// The body as text.
    var text: String {
        String(buffer: body)
    }
}

extension JSONValue {
    subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

// MARK: - Running route tests

extension TestApp {
    /// Applications alive at once: each holds a pool and a LISTEN connection on the shared test cluster, so this
    /// keeps a parallel run far below the cluster's `max_connections` and the machine's cores.
    static let gate = TestGate(limit: 8)

    /// Builds an application on a fresh database (`make`) and runs `test` against it through Hummingbird's test
    /// client (`.router` sends requests straight to the router, `.live` starts a real server on a random port).
    static func run(
        _ setup: TestingSetup = .router, configure: (inout AppConfiguration) -> Void = { _ in },
        _ test: @Sendable (_ client: any TestClientProtocol, _ databaseURL: String) async throws -> Void
    ) async throws {
        try await gate.withPermit {
            let (app, databaseURL) = try await make(configure)
            try await app.test(setup) { client in try await test(client, databaseURL) }
        }
    }
}

/// A counting semaphore for async code (no thread ever blocks on it).
final class TestGate: Sendable {
    private struct State {
        var available: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>

    init(limit: Int) {
        state = Mutex(State(available: limit))
    }

    func withPermit<T>(_ body: () async throws -> T) async throws -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { s -> Bool in
                if s.available > 0 {
                    s.available -= 1
                    return true
                }
                s.waiters.append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    private func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiters.isEmpty {
                s.available += 1
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }
}

// MARK: - The database behind an application

/// Direct access to a test application's database, to look at rows or to move time (backdating).
enum TestDatabase {
    /// Runs one statement on a connection of its own.
    @discardableResult
    static func query(_ databaseURL: String, _ sql: SQL) async throws -> PostgresRows {
        let connection = try await PostgresConnection.connect(try PostgresConfiguration(conninfo: databaseURL))
        defer { connection.close() }
        return try await connection.query(sql)
    }

    /// The integer `n` of a one-row statement such as `SELECT count(*) AS n FROM ...`.
    static func count(_ databaseURL: String, _ sql: SQL) async throws -> Int {
        try await query(databaseURL, sql)[0].decode(Int.self, column: "n")
    }

    /// Rows of the user in each table that belongs to a user.
    static func userRows(_ databaseURL: String, userID: String) async throws -> [String: Int] {
        let id = UUID(uuidString: userID)!
        let rows = try await query(
            databaseURL,
            """
            SELECT (SELECT count(*) FROM users WHERE id = \(id)) AS users,
                   (SELECT count(*) FROM weight_entries WHERE user_id = \(id)) AS weight_entries,
                   (SELECT count(*) FROM auth_tokens WHERE user_id = \(id)) AS auth_tokens,
                   (SELECT count(*) FROM idempotency_keys WHERE user_id = \(id)) AS idempotency_keys
            """)
        var counts: [String: Int] = [:]
        for table in ["users", "weight_entries", "auth_tokens", "idempotency_keys"] {
            counts[table] = try rows[0].decode(Int.self, column: table)
        }
        return counts
    }
}

// MARK: - Requests

extension TestClientProtocol {
    /// Sends raw body bytes with an optional Content-Type (nil: no Content-Type header at all).
    @discardableResult
    func sendBytes(
        _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, body: [UInt8],
        contentType: String? = "application/json", headers: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = headers
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let contentType { headers[.contentType] = contentType }
        return try await execute(uri: uri, method: method, headers: headers, body: ByteBuffer(bytes: body))
    }

    /// `POST /v1/users`.
    @discardableResult
    func register(email: String, name: String = "Test", password: String, weightUnit: String? = nil) async throws
        -> TestResponse
    {
        var members = [("email", jsonText(email)), ("name", jsonText(name)), ("password", jsonText(password))]
        if let weightUnit { members.append(("weight_unit", jsonText(weightUnit))) }
        return try await send(.post, "/v1/users", json: jsonObject(members))
    }

    /// `POST /v1/tokens`.
    @discardableResult
    func logIn(email: String, password: String) async throws -> TestResponse {
        try await send(.post, "/v1/tokens", json: jsonObject([("email", jsonText(email)), ("password", jsonText(password))]))
    }

    /// A new token of an existing account.
    func token(email: String, password: String) async throws -> String {
        let response = try await logIn(email: email, password: password)
        guard response.status == .created, let token = response.json["token"]?.stringValue else {
            throw TestFailure("log-in answered \(response.status): \(response.text)")
        }
        return token
    }

    /// Creates an entry (`weight` is JSON number text; `unit` nil leaves it out) and returns the entry object.
    @discardableResult
    func createEntry(
        _ token: String, weight: String, unit: String? = "kg", recordedOn: String, note: String? = nil,
        query: String = ""
    ) async throws -> JSONValue {
        var members = [("weight", weight), ("recorded_on", jsonText(recordedOn))]
        if let unit { members.append(("unit", jsonText(unit))) }
        if let note { members.append(("note", jsonText(note))) }
        let response = try await send(.post, "/v1/entries" + query, token: token, json: jsonObject(members))
        guard response.status == .created else {
            throw TestFailure("creating an entry answered \(response.status): \(response.text)")
        }
        return response.json
    }

    /// `POST /v1/entries/import` with a CSV body.
    @discardableResult
    func importCSV(_ token: String, _ csv: String, query: String = "") async throws -> TestResponse {
        try await sendBytes(.post, "/v1/entries/import" + query, token: token, body: Array(csv.utf8), contentType: "text/csv")
    }

    /// `GET /v1/entries` page after page until `next_cursor` is null (at most `maxPages` pages).
    func listAll(_ token: String, query: [String: String] = [:], limit: Int = 1000, maxPages: Int = 1000)
        async throws -> [JSONValue]
    {
        var entries: [JSONValue] = []
        var cursor: String?
        for _ in 0..<maxPages {
            var parameters = query
            parameters["limit"] = String(limit)
            if let cursor { parameters["cursor"] = cursor }
            let page = try await send(.get, "/v1/entries" + queryString(parameters), token: token)
            guard page.status == .ok, let items = page.json["entries"]?.arrayValue else {
                throw TestFailure("listing answered \(page.status): \(page.text)")
            }
            entries += items
            guard let next = page.json["next_cursor"]?.stringValue else { return entries }
            cursor = next
        }
        throw TestFailure("next_cursor never became null")
    }
}

// MARK: - Building request text

/// A JSON string literal of `text` (escaped as the server's own writer escapes).
func jsonText(_ text: String) -> String {
    var writer = JSONWriter()
    writer.string(text)
    return String(decoding: writer.bytes, as: UTF8.self)
}

/// A JSON object of members whose values are already JSON text, in the given order.
func jsonObject(_ members: [(String, String)]) -> String {
    "{" + members.map { jsonText($0.0) + ": " + $0.1 }.joined(separator: ", ") + "}"
}

/// `?a=b&c=d` with percent-encoded values (sorted by name), or "" when empty.
func queryString(_ parameters: [String: String]) -> String {
    guard !parameters.isEmpty else { return "" }
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return "?" + parameters.sorted { $0.key < $1.key }.map { key, value in
        key + "=" + (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)
    }.joined(separator: "&")
}

/// A unique email address.
func uniqueEmail(_ tag: String = "u") -> String {
    "\(tag)-\(UUID().uuidString.prefix(13).lowercased())@example.com"
}

// MARK: - Reading answers

extension TestResponse {
    /// A header by name.
    func header(_ name: String) -> String? {
        headers[HTTPField.Name(name)!]
    }

    /// The Content-Type without parameters, lower-cased.
    var mediaType: String? {
        headers[.contentType].map {
            ($0.split(separator: ";").first.map(String.init) ?? $0).trimmingCharacters(in: .whitespaces).lowercased()
        }
    }

    /// The body bytes.
    var bytes: [UInt8] {
        Array(buffer: body)
    }
}

extension JSONValue {
    /// The exact value of a number.
    var decimal: Decimal? {
        numberValue?.decimal
    }

    /// A whole number.
    var intValue: Int? {
        numberValue?.int
    }

    /// The member names of an object.
    var keys: Set<String> {
        Set(objectValue?.keys ?? [])
    }

    /// The object without some members (such as `request_id`), to compare answers.
    func removing(_ names: Set<String>) -> JSONValue {
        guard case .object(let object) = self else { return self }
        return .object(JSONObject(object.members.filter { !names.contains($0.key) }))
    }
}

// MARK: - Expectations shared by the route tests

/// The members of a user object.
let userMembers: Set<String> = ["id", "email", "name", "weight_unit", "created_at"]
/// The members of an entry object.
let entryMembers: Set<String> = ["id", "weight", "unit", "recorded_on", "note", "created_at", "updated_at"]

/// Checks an RFC 9457 problem answer: status, `application/problem+json`, `type`/`title`/`detail`/`code` strings,
/// `status` equal to the HTTP status, and `code` when given. Returns the body.
@discardableResult
func expectProblem(
    _ response: TestResponse, _ status: HTTPResponse.Status, _ code: String? = nil,
    _ comment: String = "", sourceLocation: SourceLocation = #_sourceLocation
) -> JSONValue {
    let context = "\(comment) \(response.status): \(response.text.prefix(400))"
    #expect(response.status == status, "\(context)", sourceLocation: sourceLocation)
    #expect(response.mediaType == "application/problem+json", "\(context)", sourceLocation: sourceLocation)
    let problem = response.json
    for member in ["type", "title", "detail", "code"] {
        #expect(problem[member]?.stringValue?.isEmpty == false, "no \(member): \(context)", sourceLocation: sourceLocation)
    }
    #expect(problem["status"]?.intValue == status.code, "\(context)", sourceLocation: sourceLocation)
    if let code {
        #expect(problem["code"]?.stringValue == code, "\(context)", sourceLocation: sourceLocation)
    }
    return problem
}

/// The `errors[].field` values of a problem.
func errorFields(_ problem: JSONValue) -> [String] {
    (problem["errors"]?.arrayValue ?? []).compactMap { $0["field"]?.stringValue }
}

/// Checks a 422 `validation_failed` whose `errors` name `field` (each error a `{field, message}` of strings).
@discardableResult
func expectValidation(
    _ response: TestResponse, field: String, _ comment: String = "", sourceLocation: SourceLocation = #_sourceLocation
) -> JSONValue {
    let problem = expectProblem(response, .unprocessableContent, "validation_failed", comment, sourceLocation: sourceLocation)
    let errors = problem["errors"]?.arrayValue ?? []
    #expect(!errors.isEmpty, "\(comment): no errors in \(response.text)", sourceLocation: sourceLocation)
    for error in errors {
        #expect(error["field"]?.stringValue != nil && error["message"]?.stringValue != nil,
                "\(comment): \(error)", sourceLocation: sourceLocation)
    }
    #expect(errorFields(problem).contains(field), "\(comment): expected field \(field) in \(response.text.prefix(400))",
            sourceLocation: sourceLocation)
    return problem
}

/// Checks a 401 `unauthorized` with `WWW-Authenticate: Bearer`.
func expectUnauthorized(_ response: TestResponse, _ comment: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    expectProblem(response, .unauthorized, "unauthorized", comment, sourceLocation: sourceLocation)
    let challenge = response.headers[.wwwAuthenticate] ?? ""
    #expect(challenge.lowercased().hasPrefix("bearer"), "\(comment): WWW-Authenticate is \(challenge)",
            sourceLocation: sourceLocation)
}

// MARK: - Weights, dates and times

/// A decimal from its text.
func dec(_ text: String) -> Decimal {
    Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))!
}

/// One pound in kilograms, exactly.
let kilogramsPerPound = dec("0.45359237")

/// The exact value of `weight` (entered in `unit`) in `target`.
func converted(_ weight: Decimal, from unit: String, to target: String) -> Decimal {
    let unit = unit == "lbs" ? "lb" : unit
    if unit == target { return weight }
    return unit == "lb" ? weight * kilogramsPerPound : weight / kilogramsPerPound
}

/// Rounded half away from zero to 2 decimals.
func round2(_ value: Decimal) -> Decimal {
    var input = value
    var output = Decimal()
    NSDecimalRound(&output, &input, 2, .plain)
    return output
}

/// What an answer shows for `weight` entered in `unit` when the display unit is `display`.
func shown(_ weight: String, _ unit: String, in display: String) -> Decimal {
    let unit = unit == "lbs" ? "lb" : unit
    return unit == display ? dec(weight) : round2(converted(dec(weight), from: unit, to: display))
}

/// Whether `value` is safely away from a rounding tie at 2 decimals (so 38-digit and 20-digit arithmetic agree).
func isFarFromRoundingTie(_ value: Decimal) -> Bool {
    var hundredths = value * 100
    var whole = Decimal()
    NSDecimalRound(&whole, &hundredths, 0, .down)
    let offset = hundredths - whole - dec("0.5")
    return (offset < 0 ? -offset : offset) > dec("0.000001")
}

/// Parses an RFC 3339 timestamp in UTC with a `Z` (fractional seconds allowed); nil for any other form.
func parseTimestamp(_ text: String) -> Date? {
    // ISO8601DateFormatter keeps milliseconds only; the API gives microseconds, and ordering tests need them all.
    guard text.hasSuffix("Z") else { return nil }
    let body = text.dropLast()
    let (whole, fraction) = body.firstIndex(of: ".").map { (body[..<$0], body[body.index(after: $0)...]) } ?? (body, "")
    guard fraction.count <= 6, fraction.allSatisfy(\.isASCII), fraction.allSatisfy(\.isNumber) else { return nil }
    let formatter = ISO8601DateFormatter()
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.formatOptions = [.withInternetDateTime]
    guard let seconds = formatter.date(from: whole + "Z") else { return nil }
    let micros = Int(fraction.padding(toLength: 6, withPad: "0", startingAt: 0)) ?? 0
    return seconds.addingTimeInterval(Double(micros) / 1_000_000)
}

/// The UTC calendar day `offset` days from today, `YYYY-MM-DD`.
func utcDay(_ offset: Int = 0, from now: Date = Date()) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let day = calendar.date(byAdding: .day, value: offset, to: now)!
    let c = calendar.dateComponents([.year, .month, .day], from: day)
    return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
}

/// Waits out the last seconds of a UTC day, so a test that reasons about "today" does not straddle midnight.
func awayFromMidnight() async throws {
    let secondsIntoDay = Int(Date().timeIntervalSince1970) % 86_400
    if secondsIntoDay > 86_400 - 60 {
        try await Task.sleep(for: .seconds(86_400 - secondsIntoDay + 1))
    }
}

/// The day `days` after `day` (`YYYY-MM-DD`).
func dayAfter(_ day: String, _ days: Int) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let formatter = DateFormatter()
    formatter.calendar = calendar
    formatter.timeZone = calendar.timeZone
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.dateFormat = "yyyy-MM-dd"
    return formatter.string(from: calendar.date(byAdding: .day, value: days, to: formatter.date(from: day)!)!)
}

/// Whole days from `a` to `b`.
func daysBetween(_ a: String, _ b: String) -> Int {
    let formatter = DateFormatter()
    formatter.timeZone = TimeZone(identifier: "UTC")!
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.dateFormat = "yyyy-MM-dd"
    return Int((formatter.date(from: b)!.timeIntervalSince(formatter.date(from: a)!) / 86_400).rounded())
}

// MARK: - Captured logs

/// Every log line an application writes, kept in memory (message, metadata and error), for checks on what is logged.
final class TestLog: Sendable {
    private let lines = Mutex<[String]>([])

    /// A logger at trace level that writes here.
    var logger: Logger {
        Logger(label: "weighin-test") { _ in Handler(log: self) }
    }

    var text: [String] {
        lines.withLock { $0 }
    }

    fileprivate func append(_ line: String) {
        lines.withLock { $0.append(line) }
    }

    private struct Handler: LogHandler {
        let log: TestLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        var metadataProvider: Logger.MetadataProvider?

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var all = metadata
            if let provided = metadataProvider?.get() { all.merge(provided) { $1 } }
            if let extra = event.metadata { all.merge(extra) { $1 } }
            log.append("\(event.level) \(event.message) \(all) \(event.error.map { "\($0)" } ?? "")")
        }
    }
}
