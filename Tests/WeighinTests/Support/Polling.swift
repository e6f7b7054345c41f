/// Polls `condition` every 20 ms until it holds, for at most `limit`; whether it held.
///
/// Why: what another task or server does (a listener connecting, a standby replaying) shows up after a while, and
/// tests wait for it with one bounded loop rather than each writing its own.
func within(_ limit: Duration, _ condition: () async throws -> Bool) async throws -> Bool {
    let started = ContinuousClock.now
    while started.duration(to: .now) < limit {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return false
}
