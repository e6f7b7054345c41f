import Foundation
import HTTPTypes
import HummingbirdTesting
import Postgres
import Testing
import WireFormats

/// HTTP: registration, log-in, profile, password change, log-out and account deletion against the contract's rules.
@Suite("HTTP: accounts")
struct AccountRouteTests {
    static let emoji = "\u{1F600}"  // 1 code point, 4 bytes, 2 UTF-16 units
    static let acuteX = "x\u{301}"  // 2 code points, 1 grapheme

    /// An address of exactly `length` code points, padded with `pad`.
    static func email(ofLength length: Int, pad: String = "x") -> String {
        let local = "u" + UUID().uuidString.prefix(8).lowercased()
        let domain = "@example.com"
        let email = local + String(repeating: pad, count: length - local.count - domain.count) + domain
        precondition(email.unicodeScalars.count == length)
        return email
    }

    // MARK: - Registration

    @Test func registrationAnswersTheUserObjectTrimmedAndLowerCased() async throws {
        try await TestApp.run { client, _ in
            let hex = UUID().uuidString.prefix(8).lowercased()
            let response = try await client.register(
                email: "  MiXeD.\(hex)@Example.COM \t", name: "  Ada Lovelace  ", password: "correct horse")
            #expect(response.status == .created)
            #expect(response.mediaType == "application/json")
            let user = response.json
            #expect(user.keys == userMembers)
            #expect(user["email"]?.stringValue == "mixed.\(hex)@example.com")
            #expect(user["name"]?.stringValue == "Ada Lovelace")
            #expect(user["weight_unit"]?.stringValue == "kg")
            let id = try #require(user["id"]?.stringValue)
            #expect(id.count == 36 && UUID(uuidString: id) != nil)
            let created = try #require(parseTimestamp(user["created_at"]?.stringValue ?? ""))
            #expect(abs(created.timeIntervalSinceNow) < 300)

            // Unicode default case mapping, not ASCII only.
            let unicode = try await client.register(
                email: " \u{C4}\u{D6}\u{DC}.\(hex)@B\u{DC}CHER.Example ", password: "correct horse")
            #expect(unicode.status == .created)
            #expect(unicode.json["email"]?.stringValue == "\u{E4}\u{F6}\u{FC}.\(hex)@b\u{FC}cher.example")

            // GET /v1/me shows the same account.
            let token = try await client.token(email: "mixed.\(hex)@example.com", password: "correct horse")
            let me = try await client.send(.get, "/v1/me", token: token)
            #expect(me.status == .ok)
            #expect(me.json == user)
        }
    }

    @Test func weightUnitDefaultsToKgAndLbsIsStoredAsLb() async throws {
        try await TestApp.run { client, _ in
            for (given, stored) in [("kg", "kg"), ("lb", "lb"), ("lbs", "lb"), (nil, "kg")] as [(String?, String)] {
                let response = try await client.register(email: uniqueEmail(), password: "correct horse", weightUnit: given)
                #expect(response.status == .created, "weight_unit \(given ?? "absent")")
                #expect(response.json["weight_unit"]?.stringValue == stored, "weight_unit \(given ?? "absent")")
            }
            for bad in ["stone", "KG", "Lb", "", "kgs"] {
                let response = try await client.register(email: uniqueEmail(), password: "correct horse", weightUnit: bad)
                expectValidation(response, field: "weight_unit", "weight_unit \(bad)")
            }
            let number = try await client.send(
                .post, "/v1/users",
                json: #"{"email": "\#(uniqueEmail())", "name": "X", "password": "correct horse", "weight_unit": 1}"#)
            expectValidation(number, field: "weight_unit")
        }
    }

    @Test func emailRules() async throws {
        try await TestApp.run { client, _ in
            let invalid: [(String, String)] = [
                ("no-at-sign.example.com", "no @"), ("two@at@example.com", "two @"), ("@example.com", "nothing before @"),
                ("someone@", "nothing after @"), ("", "empty"), ("   ", "blank"), ("  @  ", "@ between blanks"),
                (Self.email(ofLength: 255), "255 characters"), (Self.email(ofLength: 255, pad: "\u{E9}"), "255 code points"),
            ]
            for (email, label) in invalid {
                expectValidation(try await client.register(email: email, password: "correct horse"), field: "email", label)
            }
            // 254 code points (more than 254 bytes) is the longest accepted; no dot is needed after the @.
            let longest = Self.email(ofLength: 254, pad: "\u{E9}")
            #expect(longest.utf8.count > 254)
            let accepted = try await client.register(email: longest, password: "correct horse")
            #expect(accepted.status == .created)
            #expect(accepted.json["email"]?.stringValue == longest)
            let local = "x\(UUID().uuidString.prefix(8).lowercased())@localhost"
            #expect(try await client.register(email: local, password: "correct horse").json["email"]?.stringValue == local)
            // Wrong types.
            let number = try await client.send(
                .post, "/v1/users", json: #"{"email": 42, "name": "X", "password": "correct horse"}"#)
            expectValidation(number, field: "email")
        }
    }

    @Test func emailIsUniqueRegardlessOfCase() async throws {
        try await TestApp.run { client, databaseURL in
            let email = uniqueEmail()
            #expect(try await client.register(email: email, password: "correct horse").status == .created)
            let again = try await client.register(email: "  " + email.uppercased() + " ", password: "other password")
            expectProblem(again, .conflict, "email_taken")
            #expect(try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM users") == 1)
        }
    }

    @Test func nameRules() async throws {
        try await TestApp.run { client, _ in
            let invalid: [(String, String)] = [
                ("", "empty"), ("    ", "only spaces"), (" \t\n ", "only whitespace"),
                (String(repeating: "n", count: 256), "256 characters"),
                (String(repeating: Self.acuteX, count: 128), "256 code points in 128 graphemes"),
            ]
            for (name, label) in invalid {
                expectValidation(
                    try await client.register(email: uniqueEmail(), name: name, password: "correct horse"), field: "name",
                    label)
            }
            // 255 code points (355 UTF-16 units, 655 bytes) after trimming.
            let name = String(repeating: Self.emoji, count: 100) + String(repeating: "\u{E9}", count: 100)
                + String(repeating: "n", count: 55)
            #expect(name.unicodeScalars.count == 255)
            let accepted = try await client.register(email: uniqueEmail(), name: "  " + name + "  ", password: "correct horse")
            #expect(accepted.status == .created)
            #expect(accepted.json["name"]?.stringValue == name)
            let null = try await client.send(
                .post, "/v1/users", json: #"{"email": "\#(uniqueEmail())", "name": null, "password": "correct horse"}"#)
            expectValidation(null, field: "name")
        }
    }

    @Test func passwordLengthIsCountedInCodePoints() async throws {
        try await TestApp.run { client, _ in
            let invalid: [(String, String)] = [
                ("Zq9#xYw", "7 characters"), (String(repeating: Self.emoji, count: 7), "7 code points in 28 bytes"),
                (String(repeating: "p", count: 129), "129 characters"),
                (String(repeating: Self.acuteX, count: 64) + "y", "129 code points in 65 graphemes"),
            ]
            for (password, label) in invalid {
                expectValidation(try await client.register(email: uniqueEmail(), password: password), field: "password", label)
            }
            let valid: [(String, String)] = [
                ("Zq9#xYw!", "8 characters"), (String(repeating: Self.acuteX, count: 4), "8 code points in 4 graphemes"),
                (String(repeating: "p", count: 128), "128 characters"),
                (String(repeating: Self.emoji, count: 128), "128 code points in 512 bytes"),
            ]
            for (password, label) in valid {
                let email = uniqueEmail()
                #expect(try await client.register(email: email, password: password).status == .created, "\(label)")
                #expect(try await client.logIn(email: email, password: password).status == .created, "\(label)")
            }
        }
    }

    @Test func unknownMissingAndMistypedFieldsAre422NamingThem() async throws {
        try await TestApp.run { client, databaseURL in
            let typo = try await client.send(
                .post, "/v1/users",
                json: #"{"email": "\#(uniqueEmail())", "name": "X", "password": "correct horse", "nmae": "typo"}"#)
            expectValidation(typo, field: "nmae")
            let complete = ["email": jsonText(uniqueEmail()), "name": #""X""#, "password": #""correct horse""#]
            for missing in ["email", "name", "password"] {
                let members = complete.filter { $0.key != missing }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
                expectValidation(try await client.send(.post, "/v1/users", json: jsonObject(members)), field: missing,
                                 "without \(missing)")
            }
            let number = try await client.send(
                .post, "/v1/users", json: #"{"email": "\#(uniqueEmail())", "name": "X", "password": 12345678}"#)
            expectValidation(number, field: "password")
            #expect(try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM users") == 0)
        }
    }

    @Test func theGeneralBodyRulesHoldForEveryAccountCall() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser(password: "old password")
            let calls: [(HTTPRequest.Method, String, String?, String)] = [
                (.post, "/v1/users", nil, #"{"email": \#(jsonText(uniqueEmail())), "name": "X", "password": "correct horse""#),
                (.post, "/v1/tokens", nil, #"{"email": \#(jsonText(user.email)), "password": "old password""#),
                (.patch, "/v1/me", user.token, #"{"name": "Renamed""#),
                (.put, "/v1/me/password", user.token, #"{"current_password": "old password", "new_password": "new password""#),
            ]
            for (method, path, token, open) in calls {
                let label = "\(method) \(path)"
                let typo = try await client.send(method, path, token: token, json: open + #", "surprise": 1}"#)
                expectValidation(typo, field: "surprise", label)
                for body in ["[]", "42", #""text""#, "null"] {
                    expectProblem(try await client.send(method, path, token: token, json: body), .unprocessableContent,
                                  "validation_failed", "\(label) \(body)")
                }
                for body in [open, open + ",}", "{'name': 'x'}", ""] {
                    expectProblem(try await client.send(method, path, token: token, json: body), .badRequest, "malformed_json",
                                  "\(label) \(body)")
                }
                for type in [nil, "text/plain", "application/x-www-form-urlencoded"] as [String?] {
                    let response = try await client.sendBytes(method, path, token: token, body: Array((open + "}").utf8), contentType: type)
                    expectProblem(response, .unsupportedMediaType, "unsupported_media_type", "\(label) \(type ?? "none")")
                }
                let big = Array(open.utf8) + Array(repeating: UInt8(ascii: " "), count: 1 << 20) + Array("}".utf8)
                expectProblem(try await client.sendBytes(method, path, token: token, body: big), .contentTooLarge, "payload_too_large", label)
            }
            // Nothing of that changed anything.
            #expect(try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM users") == 1)
            #expect(try await client.send(.get, "/v1/me", token: user.token).json["name"]?.stringValue == "Test")
            #expect(try await client.logIn(email: user.email, password: "old password").status == .created)
        }
    }

    // MARK: - Log-in

    @Test func logInMatchesTheEmailTrimmedInAnyCase() async throws {
        try await TestApp.run { client, _ in
            let email = uniqueEmail()
            let user = try await client.register(email: email, name: "Ada", password: "correct horse").json
            let response = try await client.logIn(email: "  " + email.uppercased() + "  ", password: "correct horse")
            #expect(response.status == .created)
            #expect(response.mediaType == "application/json")
            let body = response.json
            #expect(body.keys == ["token", "token_type", "expires_at", "user"])
            #expect(body["token_type"]?.stringValue == "Bearer")
            #expect(body["user"] == user)
            // The password is case-sensitive.
            expectProblem(try await client.logIn(email: email, password: "CORRECT HORSE"), .unauthorized, "invalid_credentials")
        }
    }

    @Test func wrongPasswordAndUnknownEmailAnswerAlike() async throws {
        try await TestApp.run { client, _ in
            let email = uniqueEmail()
            try await client.register(email: email, password: "correct horse")
            let wrong = try await client.logIn(email: email, password: "wrong horse")
            let unknown = try await client.logIn(email: uniqueEmail(), password: "wrong horse")
            let a = expectProblem(wrong, .unauthorized, "invalid_credentials")
            let b = expectProblem(unknown, .unauthorized, "invalid_credentials")
            #expect(a.removing(["request_id"]) == b.removing(["request_id"]))
            let headerNames = { (r: TestResponse) in Set(r.headers.map(\.name.canonicalName)) }
            #expect(headerNames(wrong) == headerNames(unknown))
            #expect(wrong.headers[.wwwAuthenticate] == unknown.headers[.wwwAuthenticate])
        }
    }

    @Test func aPasswordVerifiesOnlyAgainstItselfInFull() async throws {
        try await TestApp.run { client, _ in
            // Two passwords sharing their first 72 bytes (bcrypt's limit) but differing after them.
            for prefix in [String(repeating: "a", count: 72), String(repeating: "\u{E9}", count: 36)] {
                #expect(prefix.utf8.count == 72)
                let email = uniqueEmail()
                let password = prefix + "X1"
                #expect(try await client.register(email: email, password: password).status == .created)
                expectProblem(try await client.logIn(email: email, password: prefix + "Y2"), .unauthorized, "invalid_credentials")
                expectProblem(try await client.logIn(email: email, password: prefix), .unauthorized, "invalid_credentials")
                expectProblem(try await client.logIn(email: email, password: prefix + "X"), .unauthorized, "invalid_credentials")
                #expect(try await client.logIn(email: email, password: password).status == .created)
            }
        }
    }

    @Test func noPasswordMaterialInAnyAnswer() async throws {
        try await TestApp.run { client, _ in
            let secret = "Sekrit-" + UUID().uuidString
            let email = uniqueEmail()
            let register = try await client.register(email: email, password: secret)
            let login = try await client.logIn(email: email, password: secret)
            let token = try #require(login.json["token"]?.stringValue)
            let me = try await client.send(.get, "/v1/me", token: token)
            let patched = try await client.send(.patch, "/v1/me", token: token, json: #"{"name": "Renamed"}"#)
            for response in [register, login, me, patched] {
                #expect(response.status.kind == .successful)
                #expect(!response.text.contains(secret))
                for marker in ["$2a$", "$2b$", "$2y$", "$argon2", "pbkdf2", "password"] {
                    #expect(!response.text.lowercased().contains(marker), "\(marker) in \(response.text)")
                }
            }
            // Failures do not echo it either.
            let failures = [
                try await client.register(email: "not-an-email", password: secret),
                try await client.register(email: uniqueEmail(), password: "Zq9#xYw"),
                try await client.logIn(email: email, password: secret + "x"),
                try await client.send(
                    .put, "/v1/me/password", token: token,
                    json: #"{"current_password": \#(jsonText(secret + "x")), "new_password": "another one"}"#),
                try await client.send(
                    .put, "/v1/me/password", token: token,
                    json: #"{"current_password": \#(jsonText(secret)), "new_password": "short"}"#),
            ]
            for response in failures {
                #expect(response.status.kind == .clientError)
                #expect(!response.text.contains(secret))
                #expect(!response.text.contains("Zq9#xYw"))
            }
        }
    }

    @Test func noPasswordMaterialInTheLog() async throws {
        let log = TestLog()
        try await TestApp.run(configure: {
            $0.logger = log.logger
            $0.settings.accessLog = true
        }) { client, _ in
            let secret = "Log-Sekrit-" + UUID().uuidString
            let next = "Next-Sekrit-" + UUID().uuidString
            let email = uniqueEmail()
            try await client.register(email: email, password: secret)
            try await client.register(email: "not-an-email", password: secret)
            try await client.register(email: uniqueEmail(), name: "", password: secret)
            let token = try await client.token(email: email, password: secret)
            try await client.logIn(email: email, password: secret + "-wrong")
            try await client.send(.post, "/v1/tokens", json: #"{"email": \#(jsonText(email)), "password": \#(jsonText(secret))"#)
            try await client.send(.post, "/v1/tokens", json: #"{"email": \#(jsonText(email)), "password": \#(jsonText(secret)), "x": 1}"#)
            try await client.send(
                .put, "/v1/me/password", token: token,
                json: #"{"current_password": \#(jsonText(secret + "-wrong")), "new_password": \#(jsonText(next))}"#)
            try await client.send(
                .put, "/v1/me/password", token: token,
                json: #"{"current_password": \#(jsonText(secret)), "new_password": \#(jsonText(next))}"#)
            try await client.send(.get, "/v1/me", token: token)
            for _ in 0..<11 { try await client.logIn(email: email, password: next + "-wrong") }
        }
        let lines = log.text
        #expect(lines.count > 10, "the capture works: \(lines.count) lines")
        for line in lines {
            #expect(!line.contains("Sekrit"), "password in the log: \(line)")
            for marker in ["$2a$", "$2b$", "$2y$"] { #expect(!line.contains(marker), "hash in the log: \(line)") }
        }
    }

    @Test func theAccessLogNamesEachRequestByItsID() async throws {
        let log = TestLog()
        try await TestApp.run(configure: {
            $0.logger = log.logger
            $0.settings.accessLog = true
        }) { client, _ in
            let given = try await client.send(.get, "/v1/me", headers: [HTTPField.Name("X-Request-ID")!: "given-id-42"])
            let new = try await client.send(.get, "/v1/entries/not-a-uuid")
            let access = log.text.filter { $0.hasPrefix("info request ") }
            #expect(access.count == 2, "\(log.text)")
            for (answer, line) in zip([given, new], access) {
                let id = try #require(answer.header("X-Request-ID"))
                #expect(line.contains("\"request_id\": \(id)"), "\(line)")
                #expect(line.contains("\"method\": GET") && line.contains("\"status\": \(answer.status.code)"), "\(line)")
            }
            #expect(given.header("X-Request-ID") == "given-id-42")
            #expect(access.last?.contains("\"route\": /v1/entries/{id}") == true, "\(access)")
        }
    }

    @Test func concurrentRegistrationsOfOneEmailCreateOneAccount() async throws {
        try await TestApp.run { client, databaseURL in
            let email = uniqueEmail()
            let spellings = [email, email.uppercased(), " " + email, email.capitalized, email + " ", "\t" + email.uppercased()]
            let statuses = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for spelling in spellings {
                    group.addTask { try await client.register(email: spelling, password: "correct horse") }
                }
                var answers: [TestResponse] = []
                for try await answer in group { answers.append(answer) }
                return answers
            }
            #expect(statuses.filter { $0.status == .created }.count == 1)
            for answer in statuses where answer.status != .created { expectProblem(answer, .conflict, "email_taken") }
            #expect(try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM users") == 1)
            // Two users racing to the same new email: one gets it.
            let a = try await client.newUser()
            let b = try await client.newUser()
            let target = uniqueEmail("target")
            let answers = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for (token, spelling) in [(a.token, target), (b.token, target.uppercased())] {
                    group.addTask { try await client.send(.patch, "/v1/me", token: token, json: #"{"email": \#(jsonText(spelling))}"#) }
                }
                var answers: [TestResponse] = []
                for try await answer in group { answers.append(answer) }
                return answers
            }
            #expect(answers.filter { $0.status == .ok }.count == 1)
            #expect(answers.filter { $0.status == .conflict }.count == 1)
            #expect(try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM users WHERE email = \(target)") == 1)
        }
    }

    // MARK: - Profile

    @Test func profileReadAndPartialUpdate() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let before = try await client.send(.get, "/v1/me", token: user.token)
            #expect(before.status == .ok)
            #expect(before.json.keys == userMembers)
            #expect(before.json["id"]?.stringValue == user.id)
            #expect(before.json["email"]?.stringValue == user.email)

            let renamed = try await client.send(.patch, "/v1/me", token: user.token, json: #"{"name": "  Grace Hopper "}"#)
            #expect(renamed.status == .ok)
            #expect(renamed.json.keys == userMembers)
            #expect(renamed.json["name"]?.stringValue == "Grace Hopper")
            #expect(renamed.json["email"] == before.json["email"])
            #expect(renamed.json["weight_unit"] == before.json["weight_unit"])
            #expect(renamed.json["created_at"] == before.json["created_at"])

            let unit = try await client.send(.patch, "/v1/me", token: user.token, json: #"{"weight_unit": "lbs"}"#)
            #expect(unit.json["weight_unit"]?.stringValue == "lb")
            #expect(unit.json["name"]?.stringValue == "Grace Hopper")

            let newEmail = uniqueEmail("moved")
            let moved = try await client.send(
                .patch, "/v1/me", token: user.token, json: #"{"email": \#(jsonText(" " + newEmail.uppercased() + " "))}"#)
            #expect(moved.status == .ok)
            #expect(moved.json["email"]?.stringValue == newEmail)
            #expect(try await client.send(.get, "/v1/me", token: user.token).json == moved.json)
            // The new email is the log-in email; the old one is gone.
            #expect(try await client.logIn(email: newEmail, password: "correct horse").status == .created)
            expectProblem(try await client.logIn(email: user.email, password: "correct horse"), .unauthorized,
                          "invalid_credentials")
            // An empty change changes nothing.
            let empty = try await client.send(.patch, "/v1/me", token: user.token, json: "{}")
            #expect(empty.status == .ok)
            #expect(empty.json == moved.json)
        }
    }

    @Test func ownEmailInAnotherCaseIsAllowedAnotherUsersIs409() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let other = try await client.newUser()
            let before = try await client.send(.get, "/v1/me", token: user.token).json
            let same = try await client.send(
                .patch, "/v1/me", token: user.token, json: #"{"email": \#(jsonText("  " + user.email.uppercased()))}"#)
            #expect(same.status == .ok)
            #expect(same.json["email"]?.stringValue == user.email)
            let taken = try await client.send(
                .patch, "/v1/me", token: user.token,
                json: #"{"email": \#(jsonText(other.email.uppercased())), "name": "Thief"}"#)
            expectProblem(taken, .conflict, "email_taken")
            #expect(try await client.send(.get, "/v1/me", token: user.token).json["email"] == before["email"])
            #expect(try await client.send(.get, "/v1/me", token: user.token).json["name"] == before["name"])
        }
    }

    @Test func invalidProfileChangesAre422AndChangeNothing() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let before = try await client.send(.get, "/v1/me", token: user.token).json
            let cases: [(String, String)] = [
                (#"{"name": ""}"#, "name"), (#"{"name": "   "}"#, "name"),
                (#"{"name": \#(jsonText(String(repeating: "n", count: 256)))}"#, "name"),
                (#"{"name": \#(jsonText(String(repeating: Self.acuteX, count: 128)))}"#, "name"),
                (#"{"name": null}"#, "name"), (#"{"email": "nobody"}"#, "email"), (#"{"email": "a@b@c"}"#, "email"),
                (#"{"weight_unit": "stone"}"#, "weight_unit"), (#"{"password": "NewPassword123"}"#, "password"),
                (#"{"wieght_unit": "lb"}"#, "wieght_unit"), (#"{"name": "Valid Name", "email": "invalid"}"#, "email"),
                (#"{"weight_unit": "lb", "name": ""}"#, "name"),
            ]
            for (body, field) in cases {
                expectValidation(try await client.send(.patch, "/v1/me", token: user.token, json: body), field: field, body)
                #expect(try await client.send(.get, "/v1/me", token: user.token).json == before, "after \(body)")
            }
        }
    }

    // MARK: - Password

    @Test func passwordChangeRevokesEveryOtherTokenAndKeepsTheOneUsed() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser(password: "old password")
            let second = try await client.token(email: user.email, password: "old password")
            let third = try await client.token(email: user.email, password: "old password")
            // Use the others first, so a cache of verified tokens is exercised.
            #expect(try await client.send(.get, "/v1/me", token: second).status == .ok)
            #expect(try await client.send(.get, "/v1/me", token: third).status == .ok)

            let changed = try await client.send(
                .put, "/v1/me/password", token: user.token,
                json: #"{"current_password": "old password", "new_password": "new password"}"#)
            #expect(changed.status == .noContent)
            #expect(changed.body.readableBytes == 0)

            #expect(try await client.send(.get, "/v1/me", token: user.token).status == .ok)
            expectUnauthorized(try await client.send(.get, "/v1/me", token: second))
            expectUnauthorized(try await client.send(.get, "/v1/entries", token: third))
            expectProblem(try await client.logIn(email: user.email, password: "old password"), .unauthorized,
                          "invalid_credentials")
            #expect(try await client.logIn(email: user.email, password: "new password").status == .created)
            // Still: the token that made the change, and the one just issued.
            let tokens = try await TestDatabase.count(
                databaseURL, "SELECT count(*) AS n FROM auth_tokens WHERE user_id = \(UUID(uuidString: user.id)!)")
            #expect(tokens == 2)
        }
    }

    @Test func wrongCurrentPasswordIs403AndIsNotAFailedLogIn() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser(password: "old password")
            for _ in 0..<10 {
                let response = try await client.send(
                    .put, "/v1/me/password", token: user.token,
                    json: #"{"current_password": "not the password", "new_password": "new password"}"#)
                expectProblem(response, .forbidden, "invalid_credentials")
            }
            #expect(try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM failed_logins") == 0)
            // Not locked out, and the password did not change; the token still works.
            #expect(try await client.logIn(email: user.email, password: "old password").status == .created)
            #expect(try await client.send(.get, "/v1/me", token: user.token).status == .ok)
        }
    }

    @Test func invalidPasswordChangesAre422AndChangeNothing() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser(password: "old password")
            let cases: [(String, String)] = [
                (#"{"current_password": "old password", "new_password": "short12"}"#, "new_password"),
                (#"{"current_password": "old password", "new_password": \#(jsonText(String(repeating: "p", count: 129)))}"#,
                 "new_password"),
                (#"{"current_password": "old password", "new_password": \#(jsonText(String(repeating: Self.emoji, count: 7)))}"#,
                 "new_password"),
                (#"{"new_password": "new password"}"#, "current_password"),
                (#"{"current_password": "old password"}"#, "new_password"),
                (#"{"current_password": "old password", "new_password": 12345678}"#, "new_password"),
                (#"{"current_password": "old password", "new_password": "new password", "confirm": "x"}"#, "confirm"),
            ]
            for (body, field) in cases {
                expectValidation(try await client.send(.put, "/v1/me/password", token: user.token, json: body), field: field, body)
            }
            #expect(try await client.logIn(email: user.email, password: "old password").status == .created)
            #expect(try await client.send(.get, "/v1/me", token: user.token).status == .ok)
        }
    }

    // MARK: - Log-out and deletion

    @Test func logOutRevokesOnlyTheTokenUsed() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let other = try await client.token(email: user.email, password: "correct horse")
            #expect(try await client.send(.get, "/v1/me", token: user.token).status == .ok)
            let out = try await client.send(.delete, "/v1/tokens/current", token: user.token)
            #expect(out.status == .noContent)
            #expect(out.body.readableBytes == 0)
            expectUnauthorized(try await client.send(.get, "/v1/me", token: user.token))
            expectUnauthorized(try await client.send(.delete, "/v1/tokens/current", token: user.token))
            #expect(try await client.send(.get, "/v1/me", token: other).status == .ok)
        }
    }

    @Test func deletingTheAccountRemovesEveryRowOfIt() async throws {
        try await TestApp.run { client, databaseURL in
            let victim = try await client.newUser()
            let second = try await client.token(email: victim.email, password: "correct horse")
            try await client.createEntry(victim.token, weight: "70", recordedOn: "2015-01-01")
            try await client.createEntry(victim.token, weight: "150", unit: "lb", recordedOn: "2015-01-02", note: "x")
            let keyed = try await client.send(
                .post, "/v1/entries", token: victim.token, json: #"{"weight": 71, "recorded_on": "2015-01-03"}"#,
                headers: [.init("Idempotency-Key")!: "delete-me"])
            #expect(keyed.status == .created)
            let goal = try await client.send(.put, "/v1/goal", token: victim.token, json: #"{"target_weight": 65}"#)
            #expect(goal.status == .created, "\(goal.text)")
            let bystander = try await client.newUser()
            let kept = try await client.createEntry(bystander.token, weight: "90", recordedOn: "2015-01-01")
            #expect(try await client.send(.get, "/v1/me", token: second).status == .ok)

            let before = try await TestDatabase.userRows(databaseURL, userID: victim.id)
            #expect(before == [
                "users": 1, "weight_entries": 3, "auth_tokens": 2, "idempotency_keys": 1, "goals": 1, "user_emails": 1,
            ])

            let deleted = try await client.send(.delete, "/v1/me", token: victim.token)
            #expect(deleted.status == .noContent)
            #expect(deleted.body.readableBytes == 0)

            expectUnauthorized(try await client.send(.get, "/v1/me", token: victim.token))
            expectUnauthorized(try await client.send(.get, "/v1/entries", token: second))
            let after = try await TestDatabase.userRows(databaseURL, userID: victim.id)
            #expect(after == [
                "users": 0, "weight_entries": 0, "auth_tokens": 0, "idempotency_keys": 0, "goals": 0, "user_emails": 0,
            ])

            expectProblem(try await client.logIn(email: victim.email, password: "correct horse"), .unauthorized,
                          "invalid_credentials")
            let again = try await client.register(email: victim.email, password: "another password")
            #expect(again.status == .created)
            #expect(again.json["email"]?.stringValue == victim.email)
            #expect(again.json["id"]?.stringValue != victim.id)
            let fresh = try await client.token(email: victim.email, password: "another password")
            #expect(try await client.listAll(fresh).isEmpty)

            // The bystander keeps everything.
            let id = try #require(kept["id"]?.stringValue)
            #expect(try await client.send(.get, "/v1/entries/\(id)", token: bystander.token).json == kept)
            #expect(try await TestDatabase.userRows(databaseURL, userID: bystander.id)["weight_entries"] == 1)
        }
    }

    // MARK: - End to end

    @Test func accountLifeOnALiveServer() async throws {
        try await TestApp.run(.live) { client, databaseURL in
            let email = uniqueEmail("live")
            let registered = try await client.register(email: " " + email.uppercased(), name: " Live ", password: "first password")
            #expect(registered.status == .created)
            #expect(registered.json["email"]?.stringValue == email)
            #expect(registered.headers[.init("X-Request-ID")!] != nil)
            let token = try await client.token(email: email, password: "first password")
            let other = try await client.token(email: email, password: "first password")
            #expect(try await client.send(.get, "/v1/me", token: token).json == registered.json)
            let patched = try await client.send(.patch, "/v1/me", token: token, json: #"{"weight_unit": "lb"}"#)
            #expect(patched.json["weight_unit"]?.stringValue == "lb")
            let changed = try await client.send(
                .put, "/v1/me/password", token: token,
                json: #"{"current_password": "first password", "new_password": "second password"}"#)
            #expect(changed.status == .noContent)
            expectUnauthorized(try await client.send(.get, "/v1/me", token: other))
            let third = try await client.token(email: email, password: "second password")
            #expect(try await client.send(.delete, "/v1/tokens/current", token: third).status == .noContent)
            expectUnauthorized(try await client.send(.get, "/v1/me", token: third))
            #expect(try await client.send(.delete, "/v1/me", token: token).status == .noContent)
            expectUnauthorized(try await client.send(.get, "/v1/me", token: token))
            let id = try #require(registered.json["id"]?.stringValue)
            #expect(try await TestDatabase.userRows(databaseURL, userID: id).values.allSatisfy { $0 == 0 })
        }
    }
}

@Suite("HTTP: email rules by code point")
struct EmailCodePointTests {
    /// "@" followed by an emoji modifier or a combining mark is one grapheme but still one "@" code point.
    @Test(arguments: ["a@\u{1F3FB}b.example", "a\u{301}@b.example", "x@\u{301}y"])
    func anAtFollowedByAModifierIsStillAnAt(email: String) async throws {
        try await TestApp.run { client, _ in
            let response = try await client.send(
                .post, "/v1/users",
                json: #"{"email": "\#(email)", "name": "N", "password": "long enough"}"#)
            #expect(response.status == .created, "\(response.text)")
        }
    }
}
