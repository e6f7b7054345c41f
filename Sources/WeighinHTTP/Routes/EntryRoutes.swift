import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import WeighinService
import WireFormats
import Primitives

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
        let weight = body.number("weight", required: true)
        let unit = body.string("unit")
        let recordedOn = body.string("recorded_on", required: true)
        let note = body.nullableString("note")
        var errors = query.errors + body.errors
        var idempotency: IdempotencyKey?
        if let key = request.headers[.idempotencyKey] {
            if (1...255).contains(key.unicodeScalars.count) {
                idempotency = IdempotencyKey(key: key, fingerprint: Self.fingerprint(json))
            } else {
                errors.append(FieldError("Idempotency-Key", "must be 1 to 255 characters"))
            }
        }
        if !errors.isEmpty { throw Problem.validation(errors) }
        let outcome = try await services.entries.create(
            auth, NewEntry(weight: weight!, unit: unit, recordedOn: recordedOn!, note: note ?? nil), display: display,
            idempotency: idempotency,
            render: { entry in
                var writer = JSONWriter()
                writer.entry(entry, display: display)
                return writer.bytes
            })
        switch outcome {
        case .created(let entry, let bytes):
            return JSONResponse.bytes(bytes, status: .created, headers: [.location: Self.location(entry.id)])
        case .replayed(let bytes, let id):
            return JSONResponse.bytes(bytes, status: .created, headers: [.location: Self.location(id)])
        }
    }

    @Sendable func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try context.caller()
        var query = QueryReader(request)
        let range = query.dateRange()
        let limit = query.integer("limit", in: 1...1000, default: 100)
        let display = query.unit() ?? auth.weightUnit
        let cursor = query.string("cursor")
        try query.finish()
        let page = try await services.entries.list(auth, range: range, limit: limit, cursor: cursor)
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
        let change = EntryChange(
            weight: body.number("weight"), unit: body.string("unit"), recordedOn: body.string("recorded_on"),
            note: body.nullableString("note"))
        let errors = query.errors + body.errors
        if !errors.isEmpty { throw Problem.validation(errors) }
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
