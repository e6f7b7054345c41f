import ArgumentParser
import Foundation
import LoadTest

/// `loadtest`: seeds users through the public API, drives the server with a weighted mix of requests,
/// and reports throughput and latency percentiles; thresholds turn it into a deployment gate.
struct LoadTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadtest",
        abstract: "Load-test a weighin server through its HTTP API.",
        discussion: """
            Seeds --users users with --entries-per-user entries each (through POST /v1/users, /v1/tokens and \
            /v1/entries/import), then sends a weighted mix of requests for --warmup plus --duration and prints \
            a table of requests, errors by status, req/s and latency p50/p90/p99/p99.9/max per scenario.

            Closed loop (default): --connections keep-alive connections, each sending its next request when \
            the previous answer is complete. Open loop (--rate): requests are due at evenly spaced times and \
            latency counts from that intended time, so queueing for a busy connection is included.

            Exit codes: 0 success, 1 run failure (such as an unreachable --url), 2 a threshold broke, \
            64 invalid arguments.
            """
    )

    @Option(help: "Base URL of the server, plain HTTP, such as http://127.0.0.1:8080.")
    var url: String

    @Option(help: "Users to seed.")
    var users = 100

    @Option(help: "Entries imported for each new user.")
    var entriesPerUser = 30

    @Option(help: "Keep-alive connections (default: 32 closed loop, 64 with --rate).")
    var connections: Int?

    @Option(help: "Open loop: requests per second at fixed intended times, instead of the closed loop.")
    var rate: Double?

    @Option(help: "Measured period: 500ms, 10s, 2m.")
    var duration = DurationArgument(.seconds(10))

    @Option(help: "Period under load before measuring, whose results are discarded.")
    var warmup = DurationArgument(.seconds(2))

    @Option(help: "Scenario weights; scenarios: list, create, stats, get, trend, me, ema (GET /v1/trend?method=ema), progress (GET /v1/goal/progress; seeding sets every user's goal), changes (GET /v1/changes?limit=30), put (PUT /v1/entries/by-client-id/{id}, creating or replacing).")
    var mix = "list=70,create=20,stats=5,get=5"

    @Option(help: ArgumentHelp("Write the report as JSON to this file.", valueName: "file"))
    var json: String?

    @Option(help: ArgumentHelp("Exit 2 if the overall p99 latency is above this many milliseconds.", valueName: "ms"))
    var maxP99: Double?

    @Option(help: ArgumentHelp("Exit 2 if the overall error rate is above this fraction (0 to 1).", valueName: "fraction"))
    var maxErrorRate: Double?

    @Flag(help: "Seed users and entries, then stop without load.")
    var seedOnly = false

    @Option(help: "Password of the seeded users.")
    var password = "loadtest-password"

    @Option(help: "Seeded users are PREFIX-<n>@loadtest.invalid; reuse a prefix to reuse its users (default: lt-<random>).")
    var emailPrefix: String?

    @Option(help: "Event-loop threads carrying the connections.")
    var threads = 1

    @Option(help: "Per-request timeout; slower requests count as 'timeout' errors.")
    var timeout = DurationArgument(.seconds(10))

    @Option(help: "Use this bearer token for every request instead of seeding users.")
    var token: String?

    @Option(help: ArgumentHelp("GET only this path below --url, without seeding (to measure one URL or the generator itself).", valueName: "path"))
    var path: String?

    func validate() throws {
        _ = try makeConfiguration()
    }

    func run() async throws {
        let configuration = try makeConfiguration()
        let report = try await runLoadTest(configuration)
        let violations = configuration.thresholds.violations(in: report)
        if !violations.isEmpty {
            FileHandle.standardError.write(Data("loadtest: threshold broken: \(violations.map(\.description).joined(separator: "; "))\n".utf8))
            throw ExitCode(2)
        }
    }

    /// The library configuration these arguments describe; errors are validation errors (exit 64).
    func makeConfiguration() throws -> LoadTestConfiguration {
        do throws(LoadTestError) {
            var configuration = LoadTestConfiguration(target: try LoadTestTarget(parsing: url))
            configuration.users = users
            configuration.entriesPerUser = entriesPerUser
            if let rate {
                configuration.load = .openLoop(requestsPerSecond: rate, connections: connections ?? 64)
            } else {
                configuration.load = .closedLoop(connections: connections ?? 32)
            }
            configuration.duration = duration.duration
            configuration.warmup = warmup.duration
            configuration.requestTimeout = timeout.duration
            configuration.mix = try ScenarioMix(parsing: mix)
            configuration.jsonOutputPath = json
            configuration.thresholds = LoadTestThresholds(maxP99Milliseconds: maxP99, maxErrorRate: maxErrorRate)
            configuration.seedOnly = seedOnly
            configuration.password = password
            if let emailPrefix { configuration.emailPrefix = emailPrefix }
            configuration.threads = threads
            configuration.token = token
            configuration.rawPath = path
            try configuration.validate()
            return configuration
        } catch {
            throw ValidationError(error.message)
        }
    }
}
