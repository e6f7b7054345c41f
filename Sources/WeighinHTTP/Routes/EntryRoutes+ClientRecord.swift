import Foundation
import Hummingbird
import WeighinService
import WireFormats

/// `PUT /v1/entries/by-client-id/{client_record_id}`: a device writes its own copy of an entry under its own id.
extension EntryRoutes {
    static let clientRecordRoute = Route(
        .put, "/v1/entries/by-client-id/{client_record_id}", authenticated: true, id: "putEntryByClientId",
        summary: "Create or replace an entry by the device's id", tag: .sync,
        description: """
            Creates the entry carrying this client id (201, `Location` of the entry) or replaces the one that has it \
            (200) when `client_version` is higher than the stored one. The same version with the same body (equal \
            as parsed JSON: `70` = `70.0`, `lbs` = `lb`) answers 200 and changes nothing; a lower version, or the \
            same with another body, answers 409 `version_conflict` with the stored entry in `current`. PUT replaces \
            the whole entry: a member left out becomes null. A PATCH keeps the client id and version; deleting the \
            entry frees the id. `If-Match` (the entry's `ETag` in this request's display unit, or `*`) makes it \
            conditional: no match answers 412 and changes nothing.
            """ + displayUnit,
        parameters: [.clientRecordID, .unit, .ifMatch], body: .json(.entryPut),
        answers: [
            .json("The replaced entry, or the stored one unchanged (same version and body).", .entry, headers: [.eTag]),
            .json("The new entry.", .entry, status: 201, headers: [.entryLocation, .eTag]),
            .problem(.versionConflict), .problem(.preconditionFailed),
        ]
    ) { $0.entries.putByClientID }

    /// The members a PUT by client id may have: an entry's and `client_version`.
    static let clientPutMembers = BodyReader.entryMembers.union(["client_version"])

    @Sendable func putByClientID(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try context.caller()
        let raw = context.parameters.get("client_record_id") ?? ""
        let json = try await RequestBodyReader.json(request)
        var query = QueryReader(request)
        let display = query.unit() ?? auth.weightUnit
        var body = try BodyReader(json, allowed: Self.clientPutMembers)
        var entry = body.newEntry()
        let version = body.integer("client_version", in: 0...Int.max)
        entry.problems = query.errors + body.errors
        let recordID = raw.removingPercentEncoding
        if recordID == nil {
            entry.problems.append(FieldError("client_record_id", "must be percent-encoded UTF-8"))
        }
        let input = ClientPut(
            recordID: recordID ?? raw, version: version.map(Int64.init), entry: entry,
            fingerprint: Self.fingerprint(json))
        let (stored, created) = try await services.entries.put(
            auth, input, display: display, precondition: EntityTag.precondition(request, display: display))
        return JSONResponse.tagged(
            request, created ? .created : .ok, headers: created ? [.location: Self.location(stored.id)] : [:]
        ) { $0.entry(stored, display: display) }
    }
}
