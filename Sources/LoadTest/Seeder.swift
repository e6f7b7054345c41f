import Foundation
import NIOCore
import Primitives

/// Registers, logs in and fills the users the load acts as, through the public API only.
struct Seeder {
    let configuration: LoadTestConfiguration
    let group: any EventLoopGroup

    private var encoder: HTTPRequestEncoder { HTTPRequestEncoder(target: configuration.target) }

    /// Seeds `configuration.users` users, `seedConcurrency` at a time, and returns them in order.
    func seedUsers() async throws -> (users: [SeededUser], summary: SeedingSummary) {
        let started = ContinuousClock.now
        let count = configuration.users
        let workers = Swift.min(configuration.seedConcurrency, count)
        let results = try await withThrowingTaskGroup(of: [(Int, SeededUser, Bool)].self) { group in
            for worker in 0..<workers {
                group.addTask {
                    let connection = try await SeedConnection(
                        eventLoop: self.group.next(), target: configuration.target, timeout: seedingTimeout
                    )
                    var seeded: [(Int, SeededUser, Bool)] = []
                    do {
                        for index in stride(from: worker, to: count, by: workers) {
                            let (user, created) = try await seedUser(number: index + 1, on: connection)
                            seeded.append((index, user, created))
                        }
                    } catch {
                        await connection.close()
                        throw error
                    }
                    await connection.close()
                    return seeded
                }
            }
            var all: [(Int, SeededUser, Bool)] = []
            for try await part in group { all += part }
            return all.sorted { $0.0 < $1.0 }
        }
        let created = results.filter(\.2).count
        let summary = SeedingSummary(
            users: results.count,
            createdUsers: created,
            entries: created * configuration.entriesPerUser,
            seconds: (ContinuousClock.now - started).inSeconds
        )
        return (results.map(\.1), summary)
    }

    /// The single user of `--token`, with entry ids when the mix needs them. Its goal is never changed: the
    /// `progress` scenario needs one set already.
    func tokenUser(_ token: String) async throws -> SeededUser {
        let needsIDs = configuration.mix.weight(of: .get) > 0
        let needsGoal = configuration.mix.weight(of: .progress) > 0
        guard needsIDs || needsGoal else { return SeededUser(token: token, entryIDs: []) }
        let connection = try await SeedConnection(eventLoop: group.next(), target: configuration.target, timeout: seedingTimeout)
        var ids: [String] = []
        do {
            if needsIDs { ids = try await entryIDs(token: token, label: "the --token user", on: connection) }
            if needsGoal {
                let goal = try await send(encoder.request(method: "GET", path: "/v1/goal", token: token), on: connection)
                if goal.status == 404 {
                    throw LoadTestError("the --token user has no goal for the progress scenario: set one (PUT /v1/goal) or drop progress from --mix")
                }
                guard goal.status == 200 else { throw failure("reading the goal of the --token user: GET /v1/goal", goal) }
            }
            await connection.close()
        } catch {
            await connection.close()
            throw error
        }
        if needsIDs, ids.isEmpty {
            throw LoadTestError("the --token user has no entries for the get scenario: drop get from --mix")
        }
        return SeededUser(token: token, entryIDs: ids)
    }

    /// Log-in hashes passwords (bcrypt), so answers can be slow while many are in flight.
    private var seedingTimeout: Duration { Swift.max(configuration.requestTimeout, .seconds(30)) }

    private func seedUser(number: Int, on connection: SeedConnection) async throws -> (SeededUser, created: Bool) {
        let email = "\(configuration.emailPrefix)-\(number)@loadtest.invalid"
        let registration = try JSONEncoder().encode(
            ["email": email, "name": "Load Test \(number)", "password": configuration.password]
        )
        let registered = try await send(
            encoder.request(method: "POST", path: "/v1/users", token: nil, json: String(decoding: registration, as: UTF8.self)),
            on: connection
        )
        let created: Bool
        switch registered.status {
        case 201: created = true
        case 409: created = false
        default: throw failure("registering \(email): POST /v1/users", registered)
        }

        let credentials = try JSONEncoder().encode(["email": email, "password": configuration.password])
        let login = try await send(
            encoder.request(method: "POST", path: "/v1/tokens", token: nil, json: String(decoding: credentials, as: UTF8.self)),
            on: connection
        )
        guard login.status == 200 || login.status == 201 else {
            if login.status == 401, !created {
                throw LoadTestError(
                    "logging in \(email), which already existed, answered 401: use the --password of the run that created it, or another --email-prefix"
                )
            }
            throw failure("logging in \(email): POST /v1/tokens", login)
        }
        guard let token = try? JSONDecoder().decode(TokenAnswer.self, from: Data((login.body ?? ByteBuffer()).readableBytesView)).token
        else {
            throw LoadTestError("logging in \(email): POST /v1/tokens answered \(login.status) without a token")
        }

        if created, configuration.entriesPerUser > 0 {
            let imported = try await send(
                encoder.request(method: "POST", path: "/v1/entries/import", token: token, json: importBody(userNumber: number)),
                on: connection
            )
            guard imported.status == 200 else { throw failure("importing entries for \(email): POST /v1/entries/import", imported) }
        }

        if configuration.mix.weight(of: .progress) > 0 {
            let goal = try await send(
                encoder.request(method: "PUT", path: "/v1/goal", token: token, json: goalBody()), on: connection)
            guard goal.status == 200 || goal.status == 201 else { throw failure("setting the goal of \(email): PUT /v1/goal", goal) }
        }

        var ids: [String] = []
        if configuration.mix.weight(of: .get) > 0 {
            ids = try await entryIDs(token: token, label: email, on: connection)
        }
        return (SeededUser(token: token, entryIDs: ids), created)
    }

    private func entryIDs(token: String, label: String, on connection: SeedConnection) async throws -> [String] {
        let listed = try await send(encoder.request(method: "GET", path: "/v1/entries?limit=1000", token: token), on: connection)
        guard listed.status == 200 else { throw failure("listing entries of \(label): GET /v1/entries", listed) }
        guard let list = try? JSONDecoder().decode(EntryList.self, from: Data((listed.body ?? ByteBuffer()).readableBytesView))
        else {
            throw LoadTestError("listing entries of \(label): GET /v1/entries answered a body without entries[].id")
        }
        return list.entries.map(\.id)
    }

    /// A JSON array of one entry a day, ending today, drifting around a per-user weight.
    func importBody(userNumber: Int) -> String {
        var random = FastRandom(seed: UInt64(userNumber))
        var hundredths = 5_500 + random.next(below: 5_000)
        let today = CalendarDate.today()
        var rows: [String] = []
        rows.reserveCapacity(configuration.entriesPerUser)
        for day in 0..<configuration.entriesPerUser {
            hundredths = Swift.min(15_000, Swift.max(4_000, hundredths + random.next(below: 81) - 40))
            let date = today.adding(days: -day).description
            rows.append("{\"weight\":\(weightText(hundredths: hundredths)),\"unit\":\"kg\",\"recorded_on\":\"\(date)\",\"note\":null}")
        }
        return "[" + rows.joined(separator: ",") + "]"
    }

    /// A goal any seeded user can have, entries or not: from 110 kg a year ago down to 60 kg a year from now.
    func goalBody() -> String {
        let today = CalendarDate.today()
        return #"{"target_weight":60,"unit":"kg","start_weight":110,"start_date":"\#(today.adding(days: -365))","target_date":"\#(today.adding(days: 365))"}"#
    }

    /// How long one seeding request may keep being retried after 429 or 503.
    static let retryBudget: Duration = .seconds(120)
    /// The wait before a retry when a 429 or 503 has no `Retry-After`.
    static let defaultRetryWait: Duration = .milliseconds(500)

    /// Sends a request and, while the server answers 429 (imports beyond `--max-imports` or one per user at a
    /// time) or 503 (it sheds load while hashing), sends it again after the answer's `Retry-After` and 0.1 s
    /// (0.5 s without one). Retries end after `retryBudget`: a wait that would pass it returns that answer at
    /// once, which the caller reports.
    private func send(_ request: ByteBuffer, on connection: SeedConnection) async throws -> ParsedResponse {
        let deadline = ContinuousClock.now + Self.retryBudget
        while true {
            let response = try await connection.send(request)
            guard response.status == 429 || response.status == 503 else { return response }
            let wait = response.retryAfter.map { Duration.seconds($0) + .milliseconds(100) } ?? Self.defaultRetryWait
            guard ContinuousClock.now + wait <= deadline else { return response }
            try await Task.sleep(for: wait)
        }
    }

    private func failure(_ what: String, _ response: ParsedResponse) -> LoadTestError {
        var detail = ""
        if let body = response.body, let problem = try? JSONDecoder().decode(Problem.self, from: Data(body.readableBytesView)) {
            detail = [problem.code, problem.detail].compactMap { $0 }.joined(separator: ": ")
        }
        return LoadTestError("seeding failed: \(what) answered \(response.status)\(detail.isEmpty ? "" : " (\(detail))")")
    }
}

private struct TokenAnswer: Decodable {
    var token: String
}

private struct EntryList: Decodable {
    struct Entry: Decodable {
        var id: String
    }

    var entries: [Entry]
}

private struct Problem: Decodable {
    var code: String?
    var detail: String?
}
