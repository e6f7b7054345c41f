import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Primitives
import WeighinService
import WireFormats

extension HTTPField.Name {
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
}

/// Weight entries: `/v1/entries` and `/v1/entries/{id}`.
struct EntryRoutes {

    let services: WeighinServices

    /// About how long one entry's JSON is (370 bytes with every optional member null, more with a note): a page's
    /// body is written into room for all of its entries at once.
    static let entryLength = 400

    static let routes: [Route] = [
        Route(
            .post, "/v1/entries", authenticated: true, id: "createEntry", summary: "Record a weight", tag: .entries,
            description: """
                Stores a weight exactly as entered (value and unit); a weight without `unit` is in the display unit of \
                the request. With `Idempotency-Key` a retry replays the first 201 answer.
                """ + displayUnit,
            parameters: [.unit, .idempotencyKey], body: .json(.entryCreate),
            answers: [
                .json(
                    "The new entry.", .entry, status: 201, headers: [.entryLocation, .eTag],
                    links: [
                        "GetEntry": ["operationId": "getEntry", "parameters": ["id": "$response.body#/id"]],
                        "UpdateEntry": ["operationId": "updateEntry", "parameters": ["id": "$response.body#/id"]],
                        "DeleteEntry": ["operationId": "deleteEntry", "parameters": ["id": "$response.body#/id"]],
                    ]),
                .problem(.idempotencyKeyInUse), .problem(.entryValidationFailed),
            ]
        ) { $0.entries.create },
        Route(
            .get, "/v1/entries", authenticated: true, id: "listEntries", summary: "List entries", tag: .entries,
            description: """
                The user's entries with `from` <= `recorded_on` <= `to` (inclusive), newest `recorded_on` first, then \
                newest `created_at`, then `id`, at most `limit` per page. Following `next_cursor` (with the same \
                `from`/`to`/`unit`) until it is null returns every entry in range exactly once, even while entries are \
                added.
                """ + displayUnit,
            parameters: [.from, .to, .limit, .cursor, .unit, .ifNoneMatch, .weighinPosition],
            answers: [.json("A page of entries.", .entryList, headers: [.eTag]), .notModified]
        ) { $0.entries.list },
        Route(
            .get, "/v1/entries/{id}", authenticated: true, id: "getEntry", summary: "Get an entry", tag: .entries,
            description: "One entry of the user." + displayUnit, parameters: [.entryID, .unit, .ifNoneMatch, .weighinPosition],
            answers: [.json("The entry.", .entry, headers: [.eTag]), .notModified, .problem(.notFound)]
        ) { $0.entries.get },
        Route(
            .patch, "/v1/entries/{id}", authenticated: true, id: "updateEntry", summary: "Update an entry",
            tag: .entries,
            description: """
                Changes the given members; `unit` without `weight` relabels the stored number, `weight` without `unit` \
                is in the display unit of the request, `"note": null` clears the note. `created_at` is kept, \
                `updated_at` advances. A client id and version stay. `If-Match` (the entry's `ETag` in this request's \
                display unit, or `*`) makes it conditional: no match answers 412 and changes nothing.
                """ + displayUnit,
            parameters: [.entryID, .unit, .ifMatch], body: .json(.entryUpdate),
            answers: [
                .json("The updated entry.", .entry, headers: [.eTag]), .problem(.notFound),
                .problem(.preconditionFailed),
            ]
        ) { $0.entries.update },
        Route(
            .delete, "/v1/entries/{id}", authenticated: true, id: "deleteEntry", summary: "Delete an entry",
            tag: .entries,
            description: """
                Deletes one entry of the user; the change feed keeps its deletion. `If-Match` (the entry's `ETag` in \
                this request's display unit, or `*`) makes it conditional: no match answers 412 and deletes nothing.
                """,
            parameters: [.entryID, .unit, .ifMatch], answers: [.noContent, .problem(.notFound), .problem(.preconditionFailed)]
        ) { $0.entries.delete },
        clientRecordRoute,
    ]

    /// How the routes that answer with entries choose the unit they show.
    static let displayUnit =
        " The entry is shown in the display unit: the `unit` query parameter if given, else the user's `weight_unit`."

    @Sendable func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try context.caller()
        let json = try await RequestBodyReader.json(request)
        var query = QueryReader(request)
        let display = query.unit() ?? auth.weightUnit
        var body = try BodyReader(json, allowed: BodyReader.entryMembers)
        var input = body.newEntry()
        input.problems = query.errors + body.errors
        var key: IdempotencyKey?
        if let text = request.headers[.idempotencyKey] {
            let length = IdempotencyKey.length
            if length.contains(text.unicodeScalars.count) {
                key = IdempotencyKey(key: text, fingerprint: Self.fingerprint(json))
            } else {
                input.problems.append(
                    FieldError("Idempotency-Key", "must be \(length.lowerBound) to \(length.upperBound) characters"))
            }
        }
        let draft = try services.entries.validate(input, display: display)
        let render = { (entry: Entry) in
            var writer = JSONWriter()
            writer.entry(entry, display: display)
            return RememberedAnswer(body: writer.bytes, resourceID: entry.id)
        }
        let answer = if let key {
            try await services.idempotency.perform(auth, key) { transaction in
                render(try await services.entries.create(auth, draft, in: transaction))
            }
        } else {
            render(try await services.entries.create(auth, draft))
        }
        return JSONResponse.tagged(
            request, answer.body, status: .created, headers: [.location: Self.location(answer.resourceID)])
    }

    @Sendable func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try context.caller()
        var query = QueryReader(request)
        let range = query.dateRange()
        let limit = query.integer("limit", in: EntryRules.pageSizes, default: EntryRules.defaultPageSize)
        let display = query.unit() ?? auth.weightUnit
        let listing = ListingRequest(range: range, limit: limit, cursor: query.string("cursor"), problems: query.errors)
        let page = try await services.entries.list(auth, listing)
        return JSONResponse.tagged(request, capacity: 64 + page.entries.count * EntryRoutes.entryLength) { writer in
            writer.beginObject()
            writer.key("entries")
            writer.beginArray()
            for entry in page.entries { writer.entry(entry, display: display) }
            writer.endArray()
            writer.key("next_cursor")
            if let next = page.nextCursor { writer.string(next) } else { writer.null() }
            writer.endObject()
        }
    }

    @Sendable func get(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try context.caller()
        let id = try context.pathID()
        var query = QueryReader(request)
        let display = query.unit() ?? auth.weightUnit
        try query.finish()
        let entry = try await services.entries.get(auth, id: id)
        return JSONResponse.tagged(request) { $0.entry(entry, display: display) }
    }

    @Sendable func update(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try context.caller()
        let id = try context.pathID()
        let json = try await RequestBodyReader.json(request)
        var query = QueryReader(request)
        let display = query.unit() ?? auth.weightUnit
        var body = try BodyReader(json, allowed: BodyReader.entryMembers)
        var change = body.entryChange()
        change.problems = query.errors + body.errors
        let precondition = EntityTag.precondition(request, display: display)
        let entry = try await services.entries.update(auth, id: id, change, display: display, precondition: precondition)
        return JSONResponse.tagged(request) { $0.entry(entry, display: display) }
    }

    @Sendable func delete(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try context.caller()
        let id = try context.pathID()
        var query = QueryReader(request)
        let display = query.unit() ?? auth.weightUnit
        try query.finish()
        let precondition = EntityTag.precondition(request, display: display)
        try await services.entries.delete(auth, id: id, precondition: precondition)
        return JSONResponse.noContent()
    }

    static func location(_ id: UUID) -> String {
        "/v1/entries/" + id.lowercasedString
    }

    /// SHA-256 of the body in canonical form: member order, whitespace and `70` vs `70.0` do not matter, and `lbs`
    /// is `lb`; a missing `unit` still differs from a given one.
    static func fingerprint(_ json: JSONValue) -> [UInt8] {
        var canonical = json
        if case .object(let object) = json {
            canonical = .object(JSONObject(object.members.map { member in
                member.key == "unit" && member.value == .string("lbs") ? (key: "unit", value: .string("lb")) : member
            }))
        }
        return Array(SHA256.hash(data: canonical.canonicalBytes))
    }
}
