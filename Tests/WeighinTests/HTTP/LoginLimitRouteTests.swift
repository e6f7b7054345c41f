import Foundation
import HTTPTypes
import HummingbirdTesting
import Postgres
import Testing
import WireFormats

/// HTTP: the failed log-in limit (10 failures per email within 15 minutes answer 429 with Retry-After).
@Suite("HTTP: failed log-in limit")
struct LoginLimitRouteTests {
    /// `count` log-ins with a wrong password, each expected to answer 401 `invalid_credentials`.
    static func fail(
        _ client: some TestClientProtocol, _ email: String, times count: Int,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        for attempt in 1...count {
            let response = try await client.logIn(email: email, password: "wrong password \(attempt)")
            expectProblem(response, .unauthorized, "invalid_credentials", "failure \(attempt)", sourceLocation: sourceLocation)
        }
    }

    /// Checks a 429 `too_many_attempts` with a whole-second `Retry-After` and returns it.
    @discardableResult
    static func expectLocked(
        _ response: TestResponse, _ comment: String = "", sourceLocation: SourceLocation = #_sourceLocation
    ) -> Int? {
        expectProblem(response, .tooManyRequests, "too_many_attempts", comment, sourceLocation: sourceLocation)
        let header = response.headers[.retryAfter] ?? ""
        let seconds = header.allSatisfy(\.isASCII) && header.allSatisfy(\.isNumber) ? Int(header) : nil
        #expect(seconds != nil, "Retry-After is \(header)", sourceLocation: sourceLocation)
        if let seconds {
            #expect((1...900).contains(seconds), "Retry-After is \(seconds)", sourceLocation: sourceLocation)
        }
        return seconds
    }

    /// Inserts `count` failed log-ins for `email` that happened `secondsAgo` seconds ago.
    static func backdatedFailures(_ databaseURL: String, _ email: String, count: Int, secondsAgo: Int) async throws {
        try await TestDatabase.query(
            databaseURL,
            """
            INSERT INTO failed_logins (email, attempted_at)
            SELECT \(email), clock_timestamp() - make_interval(secs => \(secondsAgo)) FROM generate_series(1, \(count))
            """)
    }

    static func failures(_ databaseURL: String, _ email: String) async throws -> Int {
        try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM failed_logins WHERE email = \(email)")
    }

    @Test func tenFailuresLockTheEmailEvenForTheRightPassword() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            try await Self.fail(client, user.email, times: 10)
            let right = try await client.logIn(email: user.email, password: "correct horse")
            let wait = Self.expectLocked(right, "right password")
            // The failures just happened: a log-in is allowed again only when the first leaves the 15-minute window.
            if let wait { #expect(wait > 840, "Retry-After \(wait)") }
            Self.expectLocked(try await client.logIn(email: user.email, password: "wrong"), "wrong password")
            Self.expectLocked(try await client.logIn(email: "  " + user.email.uppercased(), password: "correct horse"),
                              "another spelling")
            // Tokens issued before keep working: the limit is about log-in only.
            #expect(try await client.send(.get, "/v1/me", token: user.token).status == .ok)
        }
    }

    @Test func nineFailuresDoNotLock() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            try await Self.fail(client, user.email, times: 9)
            #expect(try await client.logIn(email: user.email, password: "correct horse").status == .created)
        }
    }

    @Test func failuresCountPerTrimmedLowerCasedEmail() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let spellings = [user.email, user.email.uppercased(), "  " + user.email + " ", "\t" + user.email.capitalized]
            for attempt in 0..<10 {
                let response = try await client.logIn(email: spellings[attempt % spellings.count], password: "wrong")
                expectProblem(response, .unauthorized, "invalid_credentials", "failure \(attempt + 1)")
            }
            #expect(try await Self.failures(databaseURL, user.email) == 10)
            Self.expectLocked(try await client.logIn(email: user.email, password: "correct horse"))
        }
    }

    @Test func failuresCountWhetherOrNotAnAccountHasTheEmail() async throws {
        try await TestApp.run { client, databaseURL in
            let email = uniqueEmail("ghost")
            for attempt in 0..<10 {
                let spelling = attempt % 2 == 0 ? email.uppercased() : " " + email
                expectProblem(try await client.logIn(email: spelling, password: "whatever"), .unauthorized,
                              "invalid_credentials", "failure \(attempt + 1)")
            }
            #expect(try await Self.failures(databaseURL, email) == 10)
            Self.expectLocked(try await client.logIn(email: email, password: "whatever"), "unknown email")
            // An account registered now with that email is locked as well.
            #expect(try await client.register(email: email, password: "correct horse").status == .created)
            Self.expectLocked(try await client.logIn(email: email, password: "correct horse"), "new account")
        }
    }

    @Test func aSuccessDoesNotResetTheCount() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            try await Self.fail(client, user.email, times: 5)
            #expect(try await client.logIn(email: user.email, password: "correct horse").status == .created)
            try await Self.fail(client, user.email, times: 5)
            Self.expectLocked(try await client.logIn(email: user.email, password: "correct horse"))
        }
    }

    @Test func aLockForOneEmailDoesNotAffectAnother() async throws {
        try await TestApp.run { client, _ in
            let locked = try await client.newUser()
            let free = try await client.newUser()
            try await Self.fail(client, locked.email, times: 10)
            Self.expectLocked(try await client.logIn(email: locked.email, password: "correct horse"))
            #expect(try await client.logIn(email: free.email, password: "correct horse").status == .created)
            expectProblem(try await client.logIn(email: free.email, password: "wrong"), .unauthorized, "invalid_credentials")
        }
    }

    @Test func failuresOlderThanFifteenMinutesDoNotCount() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            // Ten failures just outside the window, nine just inside: not locked.
            try await Self.backdatedFailures(databaseURL, user.email, count: 10, secondsAgo: 15 * 60 + 5)
            try await Self.backdatedFailures(databaseURL, user.email, count: 9, secondsAgo: 13 * 60)
            #expect(try await client.logIn(email: user.email, password: "correct horse").status == .created)
            // One more failure inside the window makes ten.
            try await Self.fail(client, user.email, times: 1)
            let wait = Self.expectLocked(try await client.logIn(email: user.email, password: "correct horse"))
            // The oldest of the ten in the window leaves it in about 120 seconds.
            if let wait { #expect(wait <= 121, "Retry-After \(wait)") }
        }
    }

    @Test func theLockEndsWhenTheWindowHasPassed() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            try await Self.backdatedFailures(databaseURL, user.email, count: 10, secondsAgo: 15 * 60 - 120)
            let wait = Self.expectLocked(try await client.logIn(email: user.email, password: "correct horse"))
            if let wait { #expect(wait <= 121, "Retry-After \(wait)") }
            // Time passes: the failures move out of the window.
            try await TestDatabase.query(
                databaseURL,
                "UPDATE failed_logins SET attempted_at = attempted_at - interval '130 seconds' WHERE email = \(user.email)")
            #expect(try await client.logIn(email: user.email, password: "correct horse").status == .created)
        }
    }

    @Test func attemptsAnswered429AreNotCounted() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            try await Self.backdatedFailures(databaseURL, user.email, count: 10, secondsAgo: 13 * 60)
            for attempt in 1...5 {
                Self.expectLocked(try await client.logIn(email: user.email, password: "wrong"), "locked attempt \(attempt)")
            }
            Self.expectLocked(try await client.logIn(email: user.email, password: "correct horse"))
            #expect(try await Self.failures(databaseURL, user.email) == 10)
            // Three minutes pass: the ten failures leave the window. Had the refused attempts been counted, five of
            // them would still be inside it.
            try await TestDatabase.query(
                databaseURL,
                "UPDATE failed_logins SET attempted_at = attempted_at - interval '3 minutes' WHERE email = \(user.email)")
            try await Self.fail(client, user.email, times: 9)
            #expect(try await client.logIn(email: user.email, password: "correct horse").status == .created)
            try await Self.fail(client, user.email, times: 1)
            Self.expectLocked(try await client.logIn(email: user.email, password: "correct horse"), "tenth failure")
        }
    }

    @Test func anyEmailTextFailsAsInvalidCredentials() async throws {
        try await TestApp.run { client, _ in
            // No account can have these, so log-in answers 401 like any unknown email.
            for email in [String(repeating: "a", count: 300) + "@example.com", String(repeating: "b", count: 3000) + "@example.com",
                          String(repeating: "\u{E9}", count: 20_000), "", "   ", "no-at-sign", "\u{1F600}@\u{1F600}"] {
                let response = try await client.logIn(email: email, password: "whatever password")
                expectProblem(response, .unauthorized, "invalid_credentials", "email of \(email.count) characters")
            }
        }
    }

    @Test func lockOnALiveServer() async throws {
        try await TestApp.run(.live) { client, _ in
            let user = try await client.newUser()
            try await Self.fail(client, user.email, times: 10)
            let locked = try await client.logIn(email: user.email, password: "correct horse")
            Self.expectLocked(locked)
            #expect(locked.headers[.init("X-Request-ID")!] != nil)
            let other = try await client.newUser()
            #expect(try await client.logIn(email: other.email, password: "correct horse").status == .created)
        }
    }
}
