import NIOCore

/// When a run's phases begin and end, in monotonic nanoseconds, the same for every event loop.
struct RunSchedule: Sendable {
    /// The load starts; the warm-up begins.
    var start: Int64
    /// Measurement begins: requests started from here on are counted.
    var measureStart: Int64
    /// Measurement ends: no new request starts; those in flight may finish.
    var measureEnd: Int64
    /// Requests still unfinished here count as `timeout` and the run stops.
    var hardStop: Int64
}

/// What one event loop's worker needs for a run.
struct WorkerPlan: Sendable {
    var catalog: RequestCatalog
    var mix: ScenarioMix
    var address: SocketAddress
    /// The connections this loop carries.
    var connections: Int
    /// This loop's share of the open loop's rate, `nil` for the closed loop.
    var requestsPerSecond: Double?
    /// Where in the first interval this loop's intended times fall, from 0 to 1, so loops interleave.
    var intervalOffset: Double
    var timeoutNanoseconds: Int64
    var maxQueuedRequests: Int
    var randomSeed: UInt64
}
