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
struct ReadYourWritesMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let database: Database

    func handle(
        _ request: Request, context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        guard database.replicas != nil, let caller = context.authentication else {
            return try await next(request, context)
        }
        var context = context
        let sent = request.headers[values: .weighinPosition]
        if !sent.isEmpty {
            let positions = sent.map { WALPosition(text: $0.trimmingCharacters(in: .whitespaces)) }
            let needed = positions.contains(nil) ? WALPosition(offset: .max) : positions.compactMap { $0 }.max()
            context.authentication = caller.with(readAfter: needed)
        }
        guard ![.get, .head, .options].contains(request.method) else { return try await next(request, context) }
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            // It may have committed before failing (a lost connection after COMMIT): the user's reads must wait.
            _ = await database.confirmWrite(of: caller.userID)
            throw error
        }
        return await Self.confirm(response, writeOf: caller.userID, database: database)
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
