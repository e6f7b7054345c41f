import Testing

@testable import LoadTest
@testable import weighin

@Suite("Parsing durations, mixes, URLs and flags")
struct ArgumentParsingTests {
    @Test(
        "Durations",
        arguments: [
            ("500ms", Duration.milliseconds(500)), ("10s", .seconds(10)), ("2m", .seconds(120)),
            ("1.5s", .milliseconds(1500)), ("3", .seconds(3)), ("0s", .zero), ("2h", .seconds(7200)),
            ("30d", .seconds(2_592_000)),
        ]
    )
    func durations(text: String, expected: Duration) throws {
        #expect(DurationArgument(argument: text)?.duration == expected)
    }

    @Test("Invalid durations", arguments: ["", "s", "10x", "-1s", "ten seconds", "+3s", "nan", "1e3s", "1w"])
    func invalidDurations(text: String) {
        #expect(DurationArgument(argument: text) == nil)
    }

    @Test("Mixes keep their order and drop zero weights")
    func mixes() throws {
        let mix = try ScenarioMix(parsing: "list=70,create=20,stats=5,get=5,trend=0,me=1")
        #expect(mix.weights.map(\.scenario) == [.list, .create, .stats, .get, .me])
        #expect(mix.weight(of: .create) == 20)
        #expect(mix.weight(of: .trend) == 0)
        #expect(mix.description == "list=70,create=20,stats=5,get=5,me=1")
        #expect(try ScenarioMix(parsing: "list=70,create=20,stats=5,get=5") == .standard)
    }

    @Test("Invalid mixes", arguments: ["", "list", "list=", "list=-1", "fly=1", "list=1,list=2", "list=0", "raw=1", "list=1;me=2"])
    func invalidMixes(text: String) {
        #expect(throws: LoadTestError.self) { try ScenarioMix(parsing: text) }
    }

    @Test("The picker follows the weights and never picks a scenario outside the mix")
    func picker() throws {
        let picker = ScenarioPicker(try ScenarioMix(parsing: "list=3,me=1"))
        var random = FastRandom(seed: 42)
        var counts: [Scenario: Int] = [:]
        for _ in 0..<40_000 { counts[picker.pick(&random), default: 0] += 1 }
        #expect(Set(counts.keys) == [.list, .me])
        #expect((28_000...32_000).contains(counts[.list] ?? 0))
    }

    @Test("Base URLs")
    func urls() throws {
        let plain = try LoadTestTarget(parsing: "http://127.0.0.1:8080")
        #expect(plain.host == "127.0.0.1" && plain.port == 8080 && plain.basePath == "")
        #expect(plain.hostHeader == "127.0.0.1:8080")
        let prefixed = try LoadTestTarget(parsing: "http://localhost/api/")
        #expect(prefixed.port == 80 && prefixed.basePath == "/api" && prefixed.hostHeader == "localhost")
        let ipv6 = try LoadTestTarget(parsing: "http://[::1]:18700")
        #expect(ipv6.host == "::1" && ipv6.hostHeader == "[::1]:18700")
        #expect(throws: LoadTestError.self) { try LoadTestTarget(parsing: "https://127.0.0.1") }
        #expect(throws: LoadTestError.self) { try LoadTestTarget(parsing: "127.0.0.1:8080") }
        #expect(throws: LoadTestError.self) { try LoadTestTarget(parsing: "http://127.0.0.1:99999") }
        #expect(throws: LoadTestError.self) { try LoadTestTarget(parsing: "http://:80") }
    }

    @Test("Defaults of the command")
    func defaults() throws {
        let configuration = try LoadTestCommand.parse(["--url", "http://127.0.0.1:18700"]).makeConfiguration()
        #expect(configuration.users == 100)
        #expect(configuration.entriesPerUser == 30)
        #expect(configuration.load == .closedLoop(connections: 32))
        #expect(configuration.duration == .seconds(10))
        #expect(configuration.warmup == .seconds(2))
        #expect(configuration.mix == .standard)
        #expect(configuration.thresholds == LoadTestThresholds())
        #expect(configuration.emailPrefix.hasPrefix("lt-"))
        #expect(configuration.threads == 1)
        #expect(configuration.jsonOutputPath == nil && configuration.htmlOutputPath == nil)
        #expect(!configuration.seedOnly)
    }

    @Test("Every flag reaches the configuration")
    func allFlags() throws {
        let configuration = try LoadTestCommand.parse([
            "--url", "http://127.0.0.1:18700/base", "--users", "5", "--entries-per-user", "7", "--rate", "250.5",
            "--duration", "1500ms", "--warmup", "0s", "--mix", "me=1,trend=2", "--json", "/tmp/out.json",
            "--html", "/tmp/out.html", "--max-p99", "25", "--max-error-rate", "0.01", "--password", "secret-pass",
            "--email-prefix", "ci", "--threads", "2", "--timeout", "3s",
        ]).makeConfiguration()
        #expect(configuration.target.basePath == "/base")
        #expect(configuration.users == 5 && configuration.entriesPerUser == 7)
        #expect(configuration.load == .openLoop(requestsPerSecond: 250.5, connections: 64))
        #expect(configuration.duration == .milliseconds(1500) && configuration.warmup == .zero)
        #expect(configuration.mix.weights.map(\.scenario) == [.me, .trend])
        #expect(configuration.jsonOutputPath == "/tmp/out.json" && configuration.htmlOutputPath == "/tmp/out.html")
        #expect(configuration.thresholds == LoadTestThresholds(maxP99Milliseconds: 25, maxErrorRate: 0.01))
        #expect(configuration.password == "secret-pass" && configuration.emailPrefix == "ci")
        #expect(configuration.threads == 2 && configuration.requestTimeout == .seconds(3))

        let raw = try LoadTestCommand.parse(["--url", "http://127.0.0.1:18700", "--path", "/x", "--connections", "8", "--token", "t"])
            .makeConfiguration()
        #expect(raw.rawPath == "/x" && raw.token == "t" && raw.load == .closedLoop(connections: 8))
        #expect(try LoadTestCommand.parse(["--url", "http://127.0.0.1:1", "--seed-only"]).makeConfiguration().seedOnly)
    }

    @Test(
        "Invalid arguments are refused before anything runs",
        arguments: [
            ["--url", "https://127.0.0.1:18700"],
            ["--url", "http://127.0.0.1:18700", "--duration", "10x"],
            ["--url", "http://127.0.0.1:18700", "--duration", "0s"],
            ["--url", "http://127.0.0.1:18700", "--mix", "list=70,fly=30"],
            ["--url", "http://127.0.0.1:18700", "--max-error-rate", "1.5"],
            ["--url", "http://127.0.0.1:18700", "--max-p99", "0"],
            ["--url", "http://127.0.0.1:18700", "--connections", "0"],
            ["--url", "http://127.0.0.1:18700", "--rate", "0"],
            ["--url", "http://127.0.0.1:18700", "--users", "0"],
            ["--url", "http://127.0.0.1:18700", "--entries-per-user", "0"],
            ["--url", "http://127.0.0.1:18700", "--path", "x"],
            ["--url", "http://127.0.0.1:18700", "--seed-only", "--token", "t"],
            ["--url", "http://127.0.0.1:18700", "--seed-only", "--html", "/tmp/out.html"],
            ["--users", "3"],
        ]
    )
    func invalidArguments(arguments: [String]) {
        #expect(throws: (any Error).self) { try LoadTestCommand.parse(arguments) }
    }
}
