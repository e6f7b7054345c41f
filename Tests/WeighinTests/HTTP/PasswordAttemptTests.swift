import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import Testing
import WeighinHTTP

/// Password attempts under concurrency: the log-in limit holds for guesses that arrive at once, a password change
/// wins over log-ins still checking the old password, and wrong current passwords are limited per user.
@Suite("HTTP: password attempts under concurrency")
struct PasswordAttemptTests {
    @Test func fortyConcurrentWrongLogInsGetAtMostTenChecks() async throws {
        try await TestApp.run(configure: { $0.settings.service.hashingQueueLimit = 64 }) { client, databaseURL in
            let user = try await client.newUser()
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for attempt in 0..<40 {
                    group.addTask { try await client.logIn(email: user.email, password: "wrong \(attempt)").status }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .unauthorized }.count == 10, "\(statuses)")
            #expect(statuses.filter { $0 == .tooManyRequests }.count == 30, "\(statuses)")
            #expect(try await LoginLimitRouteTests.failures(databaseURL, user.email) == 10)
        }
    }

    @Test func aLogInStillCheckingTheOldPasswordGetsNoTokenOnceThePasswordChanged() async throws {
        // A slower hash widens the window between checking the password and storing the token.
        try await TestApp.run(configure: { $0.settings.service.passwordHashCost = 9 }) { client, databaseURL in
            for round in 0..<3 {
                let user = try await client.newUser(password: "old password")
                /// A token issued to a log-in with the old password, or the password change's status.
                enum Outcome: Sendable { case token(String?), change(HTTPResponse.Status) }
                let outcomes = try await withThrowingTaskGroup(of: Outcome.self) { group in
                    for _ in 0..<6 {
                        group.addTask {
                            let response = try await client.logIn(email: user.email, password: "old password")
                            return .token(response.status == .created ? response.json["token"]?.stringValue : nil)
                        }
                    }
                    group.addTask {
                        try await Task.sleep(for: .milliseconds(20 * round))
                        return .change(try await client.send(
                            .put, "/v1/me/password", token: user.token,
                            json: #"{"current_password": "old password", "new_password": "new password"}"#).status)
                    }
                    return try await group.reduce(into: [Outcome]()) { $0.append($1) }
                }
                let changed = outcomes.compactMap { if case .change(let status) = $0 { status } else { nil } }
                let issued = outcomes.compactMap { if case .token(let token) = $0 { token } else { nil } }
                #expect(changed == [.noContent])
                for token in issued {
                    expectUnauthorized(try await client.send(.get, "/v1/me", token: token), "round \(round)")
                }
                let live = try await TestDatabase.count(
                    databaseURL,
                    "SELECT count(*) AS n FROM auth_tokens WHERE user_id = \(UUID(uuidString: user.id)!)")
                #expect(live == 1, "only the token that changed the password, round \(round)")
            }
        }
    }

    @Test func tenWrongCurrentPasswordsLockPasswordChangesOnEveryInstance() async throws {
        let url = try await TestCluster.makeDatabase()
        func make() async throws -> some ApplicationProtocol {
            try await buildApplication(AppConfiguration(
                settings: TestApp.settings(poolSize: 2), database: try PostgresConfiguration(conninfo: url),
                migrations: TestCluster.migrations))
        }
        let first = try await make()
        let second = try await make()
        try await first.test(.router) { a in
            try await second.test(.router) { b in
                let user = try await a.newUser(password: "old password")
                let wrong = #"{"current_password": "not it", "new_password": "new password"}"#
                for (index, client) in ([a, b, a, b, a, b, a, b, a, b] as [any TestClientProtocol]).enumerated() {
                    let response = try await client.send(.put, "/v1/me/password", token: user.token, json: wrong)
                    expectProblem(response, .forbidden, "invalid_credentials", "attempt \(index + 1)")
                }
                let right = #"{"current_password": "old password", "new_password": "new password"}"#
                let locked = try await a.send(.put, "/v1/me/password", token: user.token, json: right)
                LoginLimitRouteTests.expectLocked(locked, "the right password, on the other instance")
                LoginLimitRouteTests.expectLocked(
                    try await b.send(.put, "/v1/me/password", token: user.token, json: wrong), "still locked")
                // Log-in is counted apart and still works; the password did not change.
                #expect(try await b.logIn(email: user.email, password: "old password").status == .created)
                #expect(try await TestDatabase.count(
                    url, "SELECT count(*) AS n FROM failed_password_changes WHERE user_id = \(UUID(uuidString: user.id)!)")
                    == 10)
            }
        }
    }

    @Test func aRightCurrentPasswordIsForgivenAndConcurrentWrongOnesAllCount() async throws {
        try await TestApp.run(configure: { $0.settings.service.hashingQueueLimit = 64 }) { client, databaseURL in
            let user = try await client.newUser(password: "old password")
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for attempt in 0..<20 {
                    group.addTask {
                        try await client.send(
                            .put, "/v1/me/password", token: user.token,
                            json: #"{"current_password": "wrong \#(attempt)", "new_password": "new password"}"#).status
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .forbidden }.count == 10, "\(statuses)")
            #expect(statuses.filter { $0 == .tooManyRequests }.count == 10, "\(statuses)")
            let other = try await client.newUser(password: "old password")
            try await client.send(
                .put, "/v1/me/password", token: other.token,
                json: #"{"current_password": "old password", "new_password": "new password"}"#)
            #expect(try await TestDatabase.count(
                databaseURL,
                "SELECT count(*) AS n FROM failed_password_changes WHERE user_id = \(UUID(uuidString: other.id)!)") == 0)
        }
    }

    @Test func anOverlongEmailIsAnInvalidCredentialNeverADatabaseError() async throws {
        try await TestApp.run { client, databaseURL in
            var generator = SystemRandomNumberGenerator()
            // Incompressible: PostgreSQL could not fit it in a btree row (about 2.7 KB).
            let local = String((0..<3000).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement(using: &generator)! })
            for email in [local + "@example.com", String(repeating: "a", count: 250) + "@b.co"] {
                expectProblem(try await client.logIn(email: email, password: "correct horse"), .unauthorized,
                              "invalid_credentials")
            }
            #expect(try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM failed_logins") == 0,
                    "never reached SQL")
        }
    }
}
