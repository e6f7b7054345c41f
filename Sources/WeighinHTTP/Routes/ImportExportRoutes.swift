import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import WeighinService
import WireFormats

/// Export and import of a user's whole history: `/v1/entries/export` and `/v1/entries/import`.
struct ImportExportRoutes {
    let services: WeighinServices
    let imports: ImportGate
    /// Where an import's body is read into rows, away from the threads that serve requests.
    let workers: ImportWorkers

    static let routes: [Route] = [
        Route(
            .get, "/v1/entries/export", authenticated: true, id: "exportEntries", summary: "Export all entries",
            tag: .entries,
            description: """
                Every entry of the user, oldest first, weights in their entered units. CSV \
                (`text/csv; charset=utf-8`): header `\(csvHeader.joined(separator: ","))`, RFC 4180 quoting, CRLF \
                after every record (the last included), a null or empty note as an empty field. JSON: an array of \
                entry objects.
                """,
            parameters: [.format, .weighinPosition],
            answers: [
                .content(
                    "The export.",
                    [
                        "text/csv": [
                            "schema": ["type": "string"],
                            "example": .string(
                                csvHeader.joined(separator: ",") + "\r\n2026-11-26,80.5,kg,\"after run, tired\"\r\n"),
                        ],
                        "application/json": ["schema": ["type": "array", "items": OpenAPI.Schema.entry.ref]],
                    ])
            ]
        ) { $0.importExport.export },
        Route(
            .post, "/v1/entries/import", authenticated: true, id: "importEntries", summary: "Import entries",
            tag: .entries,
            description: """
                All rows or none; at most \(OpenAPI.grouped(ImportBatch.limit)) rows (more: 422 \
                `too_many_rows`); bodies up to \(Limits.text(Limits.importBody)). CSV as export produces it \
                (`recorded_on` and `weight` columns required, `unit` and `note` optional; an empty note is null) or a \
                JSON array of entry bodies (what JSON export produces is accepted: `id`, `created_at` and \
                `updated_at` are ignored). A row with no or an empty unit is in the display unit (`unit` query \
                parameter, else the user's `weight_unit`). A failing row answers 422 with top-level `row` (1-based \
                data row; the CSV header is row 0 and fails as row 0 without `recorded_on` and `weight`) and \
                `errors[].field` naming the column.
                """,
            parameters: [.unit], body: .importRows,
            answers: [
                .json("Every row was stored.", .importResult), .problem(.importValidationFailed), .problem(.importBusy),
            ]
        ) { $0.importExport.importEntries },
    ]

    static let csvHeader = [
        "recorded_on", "weight", "unit", "note", "measured_at", "body_fat_percent", "water_percent", "muscle_percent",
        "visceral_fat", "source",
    ]
    /// The formats of an export (`format`); the first is the default.
    static let exportFormats = ["csv", "json"]

    /// Streams every entry, oldest first, in entered units: CSV (RFC 4180, CRLF) or a JSON array. The first batch
    /// is read before the answer starts, so a database failure still answers 503 rather than a cut-off 200.
    @Sendable func export(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try context.caller()
        var query = QueryReader(request)
        let csv = query.choice("format", Self.exportFormats, default: Self.exportFormats[0]) == "csv"
        try query.finish()
        var batches = services.entries.export(auth).makeAsyncIterator()
        let first = try await batches.next() ?? []
        let body = ResponseBody { [batches] writer in
            var batches = batches
            var batch: [Entry]? = first
            var isFirst = true
            try await writer.write(ByteBuffer(bytes: csv ? Self.csvPrelude() : Array("[".utf8)))
            while let entries = batch {
                let bytes = csv ? Self.csv(entries) : Self.json(entries, leadingComma: !isFirst)
                try await writer.write(ByteBuffer(bytes: bytes))
                isFirst = isFirst && entries.isEmpty
                batch = try await batches.next()
            }
            if !csv { try await writer.write(ByteBuffer(bytes: Array("]".utf8))) }
            try await writer.finish(nil)
        }
        let type = csv ? "text/csv; charset=utf-8" : "application/json"
        return Response(status: .ok, headers: [.contentType: type], body: body)
    }

    static func csvPrelude() -> [UInt8] {
        var writer = CSVWriter()
        writer.writeRecord(csvHeader)
        return writer.bytes
    }

    static func csv(_ entries: [Entry]) -> [UInt8] {
        var writer = CSVWriter()
        for entry in entries {
            let c = entry.composition
            writer.writeRecord([
                entry.recordedOn.description, entry.weight.value.plainText, entry.weight.unit.rawValue,
                entry.note ?? "", entry.measuredAt?.rfc3339 ?? "", c.bodyFatPercent?.plainText ?? "",
                c.waterPercent?.plainText ?? "", c.musclePercent?.plainText ?? "",
                c.visceralFat.map(String.init) ?? "", c.source ?? "",
            ])
        }
        return writer.bytes
    }

    static func json(_ entries: [Entry], leadingComma: Bool) -> [UInt8] {
        var writer = JSONWriter()
        var bytes: [UInt8] = []
        for (index, entry) in entries.enumerated() {
            if leadingComma || index > 0 { bytes.append(UInt8(ascii: ",")) }
            writer = JSONWriter()
            writer.enteredEntry(entry)
            bytes += writer.bytes
        }
        return bytes
    }

    /// Stores a CSV or JSON history, all rows or none (10 MiB, 100,000 rows at most). At most one import per user
    /// and a few per server run at once, admitted before the body is read; CSV is checked record by record as it is
    /// read, on `workers`' threads (seconds of CPU that would otherwise hold a thread every request needs), while
    /// the database stores the rows read so far (`EntryService.store`).
    @Sendable func importEntries(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try context.caller()
        let type = RequestBodyReader.mediaType(of: request)
        guard type == "text/csv" || type == "application/json", RequestBodyReader.isUTF8(request) else {
            throw Problem.unsupportedMediaType("text/csv or application/json")
        }
        return try await imports.admit(auth.userID) {
            var query = QueryReader(request)
            let display = query.unit() ?? auth.weightUnit
            try query.finish()
            let body = try await RequestBodyReader.collect(request, limit: Limits.importBody)
            let imported = try await services.entries.store(
                auth, display: display,
                reading: { batch in
                    if type == "text/csv" {
                        try ImportReader.readCSV(body, into: &batch)
                    } else {
                        try ImportReader.readJSON(body, into: &batch)
                    }
                },
                on: { [workers] read in try await workers.run(read) })
            return JSONResponse.make { writer in
                writer.beginObject()
                writer.key("imported")
                writer.number(imported)
                writer.endObject()
            }
        }
    }
}
