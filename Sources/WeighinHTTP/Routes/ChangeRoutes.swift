import Hummingbird
import WeighinService
import WireFormats

/// The change feed: `/v1/changes`.
struct ChangeRoutes {
    let services: WeighinServices

    static let routes: [Route] = [
        Route(
            .get, "/v1/changes", authenticated: true, id: "listChanges", summary: "Changes since a cursor",
            tag: .sync,
            description: """
                Every entry created, changed or deleted since `cursor` (without one: from the beginning, every live \
                entry as an upsert), each once in its latest state, in the order the changes committed; at most \
                `limit` per page. `next_cursor` is never null: call again with it for what changed since (with \
                nothing new, the same cursor comes back). No change is ever skipped, even one committed while the \
                cursor was being issued. Deletions are kept at least \
                \(OpenAPI.spoken(ChangeFeed.tombstoneRetention)); a cursor older than that answers 410 \
                `cursor_expired` (start over without one). A cursor works with any `unit`.
                """ + EntryRoutes.displayUnit,
            parameters: [.changesCursor, .changesLimit, .unit, .ifNoneMatch, .weighinPosition],
            answers: [
                .json("A page of changes.", .changeList, headers: [.eTag]), .notModified, .problem(.cursorExpired),
            ]
        ) { $0.changes.changes },
    ]

    @Sendable func changes(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try context.caller()
        var query = QueryReader(request)
        let limit = query.integer("limit", in: ChangeFeed.pageSizes, default: ChangeFeed.defaultPageSize)
        let display = query.unit() ?? auth.weightUnit
        let page = try await services.changes.changes(
            auth, ChangeRequest(cursor: query.string("cursor"), limit: limit, problems: query.errors))
        return JSONResponse.tagged(request) { writer in
            writer.beginObject()
            writer.key("changes")
            writer.beginArray()
            for change in page.changes {
                writer.beginObject()
                switch change {
                case .upsert(let entry):
                    writer.key("op"); writer.string("upsert")
                    writer.key("entry"); writer.entry(entry, display: display)
                case .delete(let id, let deletedAt):
                    writer.key("op"); writer.string("delete")
                    writer.key("id"); writer.uuid(id)
                    writer.key("deleted_at"); writer.timestamp(deletedAt)
                }
                writer.endObject()
            }
            writer.endArray()
            writer.key("next_cursor"); writer.string(page.nextCursor)
            writer.key("has_more"); writer.bool(page.hasMore)
            writer.endObject()
        }
    }
}
