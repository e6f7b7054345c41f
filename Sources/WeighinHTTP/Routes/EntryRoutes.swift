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

    var routes: [Route] {
        [
            Route(.post, "/v1/entries", authenticated: true, create),
            Route(.get, "/v1/entries", authenticated: true, list),
            Route(.get, "/v1/entries/{id}", authenticated: true, get),
            Route(.patch, "/v1/entries/{id}", authenticated: true, update),
            Route(.delete, "/v1/entries/{id}", authenticated: true, delete),
        ]
    }

    /// Members of an entry body.
    static let members: Set<String> = ["weight", "unit", "recorded_on", "note"]

    @Sendable func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try context.caller()
        let json = try await RequestBodyReader.json(request)
        var query = QueryReader(request)
        let display = query.unit() ?? auth.weightUnit
        var body = try BodyReader(json, allowed: Self.members)
        var input = NewEntry(
            weight: body.number("weight", required: true), unit: body.unit("unit"),
            recordedOn: body.date("recorded_on", required: true), note: body.nullableString("note") ?? nil)
        input.problems = query.errors + body.errors
        var key: IdempotencyKey?
        if let text = request.headers[.idempotencyKey] {
            if (1...255).contains(text.unicodeScalars.count) {
                key = IdempotencyKey(key: text, fingerprint: Self.fingerprint(json))
            } else {
                input.problems.append(FieldError("Idempotency-Key", "must be 1 to 255 characters"))
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
        return JSONResponse.bytes(answer.body, status: .created, headers: [.location: Self.location(answer.resourceID)])
    }

    @Sendable func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try context.caller()
        var query = QueryReader(request)
        let range = query.dateRange()
        let limit = query.integer("limit", in: EntryRules.pageSizes, default: EntryRules.defaultPageSize)
        let display = query.unit() ?? auth.weightUnit
        let listing = ListingRequest(range: range, limit: limit, cursor: query.string("cursor"), problems: query.errors)
        let page = try await services.entries.list(auth, listing)
        return JSONResponse.make { writer in
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
        let id = try context.entryID()
        var query = QueryReader(request)
        let display = query.unit() ?? auth.weightUnit
        try query.finish()
        let entry = try await services.entries.get(auth, id: id)
        return JSONResponse.make { $0.entry(entry, display: display) }
    }

    @Sendable func update(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try context.caller()
        let id = try context.entryID()
        let json = try await RequestBodyReader.json(request)
        var query = QueryReader(request)
        let display = query.unit() ?? auth.weightUnit
        var body = try BodyReader(json, allowed: Self.members)
        var change = EntryChange(
            weight: body.number("weight"), unit: body.unit("unit"), recordedOn: body.date("recorded_on"),
            note: body.nullableString("note"))
        change.problems = query.errors + body.errors
        let entry = try await services.entries.update(auth, id: id, change, display: display)
        return JSONResponse.make { $0.entry(entry, display: display) }
    }

    @Sendable func delete(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await services.entries.delete(try context.caller(), id: try context.entryID())
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
