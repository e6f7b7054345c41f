import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import WireFormats

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

extension TestClientProtocol {
    /// Waits (at most 10 s) until the token cache is on, which it is only once the invalidation listener connected;
    /// tests that count the statements a cached token saves start from there (on a loaded machine the listener can
    /// connect after the first requests, which then each check their token in the database).
    func waitForTokenCache() async throws {
        let enabled = try await within(.seconds(10)) {
            let metrics = try await send(.get, "/metrics").text
            let line = metrics.split(separator: "\n").first { $0.hasPrefix("weighin_token_cache_enabled ") }
            return line.map { Double($0.split(separator: " ").last ?? "") == 1 } ?? false
        }
        guard enabled else {
            throw TestFailure("the token cache did not turn on within 10 s (its invalidation listener never connected)")
        }
    }
}

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
