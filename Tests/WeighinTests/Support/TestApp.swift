import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Postgres
import WeighinHTTP
import WeighinService
import WireFormats

/// Applications for route tests, each on a fresh migrated database, built by the same `buildApplication` as
/// `weighin serve`.
enum TestApp {
    /// A fast hash cost: tests check behaviour, not bcrypt's cost.
    static let service = ServiceConfiguration(passwordHashCost: 4, hashingThreads: 2)

    /// The application and its database URL.
    static func make(
        _ configure: (inout AppConfiguration) -> Void = { _ in }
    ) async throws -> (app: some ApplicationProtocol, databaseURL: String) {
        let url = try await TestCluster.makeDatabase()
        var configuration = AppConfiguration(
            port: 0, database: try PostgresConfiguration(conninfo: url), poolSize: 4, service: service,
            migrations: TestCluster.migrations, accessLog: false)
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
