import Foundation
import HTTPTypes
import Hummingbird
import WeighinService

/// Keeps reads served by a standby from showing a client the past, on authenticated routes when standbys are set
/// (`--read-database-url`).
///
/// After a write (any method but GET, HEAD and OPTIONS, answered or failed), the primary's WAL position is recorded
/// for the user, so this instance's later reads of the user wait for a standby that has replayed it, and is sent
/// back as `Weighin-Position`. A client that sends the newest position it received as `Weighin-Position` on a read
/// gets the same on any instance: its read goes to a standby only when that standby has replayed the position. A
/// value that is not a position sends the read to the primary, which has every acknowledged write. Registration and
/// log-in, whose routes carry no token, do the same through `confirm` (the user's row and token are writes too: a
/// standby without them would answer the new user's first reads as if the account did not exist).
struct ReadYourWrites: Sendable {
    let database: Database

    /// Whether standbys serve reads: without them every read goes to the primary, and there is nothing to track.
    var isActive: Bool { database.replicas != nil }

    /// `caller` with the position its reads must reflect, from the `Weighin-Position` values `request` sent.
    func caller(_ caller: Authentication, of request: Request) -> Authentication {
        let sent = request.headers[values: .weighinPosition]
        guard isActive, !sent.isEmpty else { return caller }
        let positions = sent.map { WALPosition(text: $0.trimmingCharacters(in: .whitespaces)) }
        let newest = positions.contains(nil) ? WALPosition(offset: .max) : positions.compactMap { $0 }.max()
        return caller.with(readAfter: newest)
    }

    /// Whether `request` may write, so that its answer (or failure) records the primary's position.
    func tracks(_ request: Request) -> Bool {
        isActive && ![.get, .head, .options].contains(request.method)
    }

    /// Records the position after a write of `user` that failed: it may have committed before failing (a lost
    /// connection after COMMIT), so the user's reads must wait for it.
    func failedWrite(of user: UUID) async {
        _ = await database.confirmWrite(of: user)
    }

    /// `response` to an acknowledged write of `user`, with the position recorded and sent (with standbys).
    static func confirm(_ response: Response, writeOf user: UUID, database: Database) async -> Response {
        guard let position = await database.confirmWrite(of: user) else { return response }
        var response = response
        response.headers[.weighinPosition] = position.description
        return response
    }
}

extension HTTPField.Name {
    /// The WAL position of a client's newest write, answered to writes and sent back on reads.
    static let weighinPosition = Self("Weighin-Position")!
}
