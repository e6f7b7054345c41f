import CoreMetrics
import Foundation
import Postgres
import Primitives
import Prometheus
import Synchronization
import WeighinService

/// The application's metrics, through swift-metrics into a Prometheus registry of its own (several applications,
/// as in tests, can live in one process).
final class AppMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory

    /// One method, route pattern and status: a series of the request counter.
    private struct RequestSeries: Hashable {
        let method: String
        let route: String
        let status: Int
    }

    /// The request counter and timer of each series seen, made once. Making them for each request looked them up
    /// in the registry by their label strings, at about 12,600 instructions per request.
    private let requestSeries = Mutex<[RequestSeries: (counter: CoreMetrics.Counter, timer: CoreMetrics.Timer)]>([:])
    private static let requestSeriesKept = 1024

    init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        self.factory = factory
    }

    /// Counts a request (`weighin_http_requests_total{method,route,status}`) and times it
    /// (`weighin_http_request_duration_seconds{method,route}`).
    func recordRequest(method: String, route: String, status: Int, duration: Duration) {
        let series = RequestSeries(method: method, route: route, status: status)
        let metrics = requestSeries.withLock { known in
            if let metrics = known[series] { return metrics }
            let made = (
                counter: Counter(
                    label: "weighin_http_requests_total",
                    dimensions: [("method", method), ("route", route), ("status", String(status))], factory: factory),
                timer: Timer(
                    label: "weighin_http_request_duration_seconds", dimensions: [("method", method), ("route", route)],
                    factory: factory))
            // Methods are the client's to choose: past this many series, the extra ones are not kept here.
            if known.count < Self.requestSeriesKept { known[series] = made }
            return made
        }
        metrics.counter.increment()
        metrics.timer.recordNanoseconds(duration.nanoseconds)
    }

    /// Counts a database failure by SQLSTATE class (`08` connection, `57` operator intervention, ...).
    func recordDatabaseError(sqlState: String) {
        Counter(label: "weighin_db_errors_total", dimensions: [("class", String(sqlState.prefix(2)))], factory: factory)
            .increment()
    }

    /// Counts a refused log-in (`weighin_login_failures_total{reason}`).
    func recordLoginFailure(reason: String) {
        Counter(label: "weighin_login_failures_total", dimensions: [("reason", reason)], factory: factory).increment()
    }

    /// The Prometheus text, with gauges read now: pool connections by state, waiters, token cache, resident memory,
    /// and with standbys, reads by target and the standby's lag.
    func render(
        pool: PostgresPool.Statistics, poolSize: Int, tokenCache: TokenCache.Statistics,
        replicas: ReadReplicas.Statistics? = nil
    ) -> [UInt8] {
        let gauges: [(String, [(String, String)], Int)] = [
            ("weighin_db_pool_size", [], poolSize),
            ("weighin_token_cache_enabled", [], tokenCache.enabled ? 1 : 0),
            ("weighin_token_cache_entries", [], tokenCache.size),
            ("weighin_token_cache_lookups", [("result", "hit")], tokenCache.hits),
            ("weighin_token_cache_lookups", [("result", "miss")], tokenCache.misses),
            ("weighin_token_cache_revalidated", [], tokenCache.revalidated),
            ("weighin_db_pool_connections", [("state", "idle")], pool.idle),
            ("weighin_db_pool_connections", [("state", "busy")], pool.busy),
            ("weighin_db_pool_connections", [("state", "connecting")], pool.connecting),
            ("weighin_db_pool_waiters", [], pool.waiting),
            ("weighin_process_resident_memory_bytes", [], Self.residentMemory()),
        ]
        for (label, dimensions, value) in gauges {
            Gauge(label: label, dimensions: dimensions, factory: factory).record(value)
        }
        if let replicas {
            let reads: [(ReadReplicas.Target, Int)] = [(.primary, replicas.primaryReads), (.replica, replicas.replicaReads)]
            for (target, count) in reads {
                Gauge(label: "weighin_db_reads", dimensions: [("target", target.rawValue)], factory: factory).record(count)
            }
            Gauge(label: "weighin_replica_available", factory: factory).record(replicas.available ? 1 : 0)
            // -1 until the first samples of both servers.
            Gauge(label: "weighin_replica_lag_seconds", factory: factory)
                .record(replicas.lag.map { Double($0.nanoseconds) / 1e9 } ?? -1)
        }
        return registry.emitToBuffer()
    }

    /// Resident set size from `/proc/self/statm` (0 where there is no /proc).
    static func residentMemory() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
