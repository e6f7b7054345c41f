import Foundation
import NIOCore
import NIOPosix

/// Runs a load test: checks the target answers, seeds users (unless `token` or `rawPath` is set),
/// applies the load, writes the table (and the JSON and HTML files) and returns the report.
///
/// Thresholds are not applied here: the caller decides what a broken one means, through
/// `configuration.thresholds.violations(in:)`.
public func runLoadTest(_ configuration: LoadTestConfiguration, output: LoadTestOutput = .standard) async throws -> LoadTestReport {
    try configuration.validate()
    let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads)
    do {
        let report = try await LoadTestRun(configuration: configuration, group: group, output: output).run()
        try await group.shutdownGracefully()
        return report
    } catch {
        try? await group.shutdownGracefully()
        throw error
    }
}

/// One run of `runLoadTest`.
private struct LoadTestRun {
    let configuration: LoadTestConfiguration
    let group: MultiThreadedEventLoopGroup
    let output: LoadTestOutput

    func run() async throws -> LoadTestReport {
        let address = try await resolveAddress()
        let seeder = Seeder(configuration: configuration, group: group)
        var mix = configuration.mix
        var users: [SeededUser]
        var seeding: SeedingSummary?
        if configuration.rawPath != nil {
            mix = .rawOnly
            users = [SeededUser(token: configuration.token, entryIDs: [])]
        } else if let token = configuration.token {
            users = [try await seeder.tokenUser(token)]
        } else {
            output.log(
                "seeding \(configuration.users) users (\(configuration.emailPrefix)-N@loadtest.invalid) with "
                    + "\(configuration.entriesPerUser) entries each, \(configuration.seedConcurrency) at a time"
            )
            let seeded = try await seeder.seedUsers()
            users = seeded.users
            seeding = seeded.summary
            output.log(
                "seeded \(seeded.summary.users) users (\(seeded.summary.createdUsers) new) and "
                    + "\(seeded.summary.entries) entries in \(String(format: "%.1f", seeded.summary.seconds)) s"
            )
        }
        if configuration.seedOnly {
            let report = makeReport(mix: mix, seeding: seeding, statistics: nil)
            output.report(report.table)
            try writeJSON(report)
            return report
        }

        let catalog = RequestCatalog(users: users, target: configuration.target, rawPath: configuration.rawPath)
        if mix.weight(of: .get) > 0, catalog.usersWithEntries.isEmpty {
            throw LoadTestError("no seeded user has entries for the get scenario: use a new --email-prefix or drop get from --mix")
        }
        let statistics = try await applyLoad(mix: mix, catalog: catalog, address: address)
        let report = makeReport(mix: mix, seeding: seeding, statistics: statistics)
        output.report(report.table)
        try writeJSON(report)
        try writeHTML(report, mix: mix, statistics: statistics)
        return report
    }

    /// Connects once, so that an unreachable target fails early with one clear line, and returns
    /// the address that answered, which the load connections then use without resolving again.
    private func resolveAddress() async throws -> SocketAddress {
        let target = configuration.target
        do {
            let channel = try await makeBootstrap(on: group.next(), connectTimeout: .seconds(10))
                .connect(host: target.host, port: target.port)
                .get()
            let address = channel.remoteAddress
            try? await channel.close()
            guard let address else { throw LoadTestError("cannot connect to \(target): the connection closed at once") }
            return address
        } catch let error as LoadTestError {
            throw error
        } catch {
            throw LoadTestError("cannot connect to \(target): \(describeConnectionError(error))")
        }
    }

    private func applyLoad(mix: ScenarioMix, catalog: RequestCatalog, address: SocketAddress) async throws -> RunStatistics {
        let total = configuration.load.connections
        let loops = Array(group.makeIterator())
        var rate: Double?
        if case .openLoop(let requestsPerSecond, _) = configuration.load { rate = requestsPerSecond }
        var workers: [(worker: NIOLoopBound<LoopWorker>, finished: EventLoopFuture<Void>)] = []
        for (index, loop) in loops.enumerated() {
            let share = total / loops.count + (index < total % loops.count ? 1 : 0)
            guard share > 0 else { continue }
            let plan = WorkerPlan(
                catalog: catalog,
                mix: mix,
                address: address,
                connections: share,
                requestsPerSecond: rate.map { $0 * Double(share) / Double(total) },
                intervalOffset: Double(index) / Double(loops.count),
                timeoutNanoseconds: configuration.requestTimeout.nanoseconds,
                maxQueuedRequests: Swift.max(1, configuration.maxQueuedRequests * share / total),
                randomSeed: UInt64.random(in: 0...UInt64.max)
            )
            let finished = loop.makePromise(of: Void.self)
            let worker = try await loop.submit {
                NIOLoopBound(LoopWorker(eventLoop: loop, plan: plan, finished: finished), eventLoop: loop)
            }.get()
            workers.append((worker, finished.futureResult))
        }
        for (worker, _) in workers {
            try await worker.eventLoop.flatSubmit { worker.value.connectAll() }.get()
        }

        let now = monotonicNanoseconds()
        let start = now + 1_000_000
        let measureStart = start + configuration.warmup.nanoseconds
        let measureEnd = measureStart + configuration.duration.nanoseconds
        let schedule = RunSchedule(
            start: start,
            measureStart: measureStart,
            measureEnd: measureEnd,
            hardStop: measureEnd + configuration.drainTimeout.nanoseconds
        )
        for (worker, _) in workers {
            worker.eventLoop.execute { worker.value.start(schedule) }
        }
        output.log("running \(describeLoad()) for \(formatNumber(configuration.duration.inSeconds)) s after \(formatNumber(configuration.warmup.inSeconds)) s warm-up")

        let boundWorkers = workers.map(\.worker)
        let progressTask = output.progress.map { sink in
            Task { await showProgress(boundWorkers, schedule: schedule, sink: sink) }
        }
        for (_, finished) in workers {
            try await finished.get()
        }
        progressTask?.cancel()
        await progressTask?.value
        output.progress?("")

        var statistics = RunStatistics()
        for (worker, _) in workers {
            statistics.merge(try await worker.eventLoop.submit { worker.value.statistics }.get())
        }
        return statistics
    }

    /// Writes the live line once a second until cancelled.
    private func showProgress(_ workers: [NIOLoopBound<LoopWorker>], schedule: RunSchedule, sink: @Sendable (String) -> Void) async {
        var lastCompleted = 0
        var lastTime = monotonicNanoseconds()
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            if Task.isCancelled { return }
            var completed = 0
            var measured = LatencyStatistics()
            for worker in workers {
                guard let snapshot = try? await worker.eventLoop.submit({ worker.value.progress() }).get() else { return }
                completed += snapshot.completed
                measured.merge(snapshot.measured)
            }
            let now = monotonicNanoseconds()
            let rate = Double(completed - lastCompleted) / (Double(now - lastTime) / 1e9)
            lastCompleted = completed
            lastTime = now
            let phase: String
            if now < schedule.measureStart {
                phase = "warm-up"
            } else if now < schedule.measureEnd {
                let elapsed = (Double(now - schedule.measureStart) / 1e9).rounded()
                phase = "\(formatNumber(elapsed))s/\(formatNumber(configuration.duration.inSeconds))s"
            } else {
                phase = "draining"
            }
            let p99 = measured.histogram.totalCount == 0 ? "-" : formatMilliseconds(Double(measured.histogram.valueAtPercentile(99)) / 1_000)
            sink("[\(phase)] \(Int(rate.rounded())) req/s, \(measured.errorCount) errors, p99 \(p99) ms")
        }
    }

    private func describeLoad() -> String {
        switch configuration.load {
        case .closedLoop(let connections):
            "a closed loop on \(connections) connections"
        case .openLoop(let rate, let connections):
            "an open loop at \(formatNumber(rate)) req/s over \(connections) connections"
        }
    }

    private func makeReport(mix: ScenarioMix, seeding: SeedingSummary?, statistics: RunStatistics?) -> LoadTestReport {
        let seconds = configuration.duration.inSeconds
        let statistics = statistics ?? RunStatistics()
        var rate: Double?
        if case .openLoop(let requestsPerSecond, _) = configuration.load { rate = requestsPerSecond }
        return LoadTestReport(
            target: configuration.target.description,
            mode: rate == nil ? "closed" : "open",
            connections: configuration.load.connections,
            threads: configuration.threads,
            targetRate: rate,
            warmupSeconds: configuration.warmup.inSeconds,
            durationSeconds: seconds,
            mix: mix.description,
            seedOnly: configuration.seedOnly,
            seeding: seeding,
            overall: ScenarioSummary(name: "overall", statistics: statistics.overall, durationSeconds: seconds),
            scenarios: configuration.seedOnly
                ? []
                : mix.weights.map {
                    ScenarioSummary(name: $0.scenario.rawValue, statistics: statistics.scenarios[$0.scenario.ordinal], durationSeconds: seconds)
                },
            timeline: statistics.timeline.timeline
        )
    }

    private func writeJSON(_ report: LoadTestReport) throws {
        guard let path = configuration.jsonOutputPath else { return }
        do {
            try report.jsonData().write(to: URL(fileURLWithPath: path))
        } catch {
            throw LoadTestError("cannot write --json \(path): \(error.localizedDescription)")
        }
    }

    private func writeHTML(_ report: LoadTestReport, mix: ScenarioMix, statistics: RunStatistics) throws {
        guard let path = configuration.htmlOutputPath else { return }
        let distributions = mix.weights.map {
            LatencyDistribution(name: $0.scenario.rawValue, histogram: statistics.scenarios[$0.scenario.ordinal].histogram)
        } + [LatencyDistribution(name: "overall", histogram: statistics.overall.histogram)]
        let page = HTMLReport(report: report, distributions: distributions, writtenAt: Date()).html
        do {
            try Data(page.utf8).write(to: URL(fileURLWithPath: path))
        } catch {
            throw LoadTestError("cannot write --html \(path): \(error.localizedDescription)")
        }
    }
}
