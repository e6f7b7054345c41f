import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import WeighinService
import WireFormats

/// Export and import of a user's whole history: `/v1/entries/export` and `/v1/entries/import`.
struct ImportExportRoutes {
    let services: WeighinServices

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
            parameters: [.format],
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
                All rows or none; at most \(OpenAPI.grouped(EntryService.importLimit)) rows (more: 422 \
                `too_many_rows`); bodies up to \(Limits.text(Limits.importBody)). CSV as export produces it \
                (`recorded_on` and `weight` columns required, `unit` and `note` optional; an empty note is null) or a \
                JSON array of entry bodies (what JSON export produces is accepted: `id`, `created_at` and \
                `updated_at` are ignored). A row with no or an empty unit is in the display unit (`unit` query \
                parameter, else the user's `weight_unit`). A failing row answers 422 with top-level `row` (1-based \
                data row; the CSV header is row 0 and fails as row 0 without `recorded_on` and `weight`) and \
                `errors[].field` naming the column.
                """,
            parameters: [.unit], body: .importRows,
            answers: [.json("Every row was stored.", .importResult), .problem(.importValidationFailed)]
        ) { $0.importExport.importEntries },
    ]

    static let csvHeader = ["recorded_on", "weight", "unit", "note"]
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
            writer.writeRecord([
                entry.recordedOn.description, entry.weight.value.plainText, entry.weight.unit.rawValue,
                entry.note ?? "",
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

    /// Stores a CSV or JSON history, all rows or none (10 MiB, 100,000 rows at most).
    @Sendable func importEntries(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try context.caller()
        let type = RequestBodyReader.mediaType(of: request)
        guard type == "text/csv" || type == "application/json", RequestBodyReader.isUTF8(request) else {
            throw Problem.unsupportedMediaType("text/csv or application/json")
        }
        let body = try await RequestBodyReader.collect(request, limit: Limits.importBody)
        var query = QueryReader(request)
        let display = query.unit() ?? auth.weightUnit
        try query.finish()
        let rows = type == "text/csv" ? try Self.csvRows(body) : try Self.jsonRows(body)
        let imported = try await services.entries.importEntries(auth, rows: rows, display: display)
        return JSONResponse.make { writer in
            writer.beginObject()
            writer.key("imported")
            writer.number(imported)
            writer.endObject()
        }
    }

    /// CSV rows: a header naming `recorded_on` and `weight` (and optionally `unit`, `note`) in any order, then one
    /// record per entry; an empty note is null and an empty unit is the display unit.
    static func csvRows(_ body: ByteBuffer) throws -> [ImportRow] {
        let records: [[String]]
        do {
            records = try body.withUnsafeReadableBytes {
                // Fields as long as the body: an overlong note is a row error on `note` (422), not unreadable CSV.
                try CSVReader.parse(
                    $0, limits: CSVLimits(maxRecords: EntryService.importLimit + 1, maxFieldBytes: Limits.importBody))
            }
        } catch let error as CSVError where error.kind == .tooManyRecords {
            throw ServiceError.tooManyRows(limit: EntryService.importLimit)
        } catch let error as CSVError {
            throw Problem.malformedCSV("The body is not valid CSV: \(error.reason) (record \(error.record)).")
        }
        guard let header = records.first else {
            throw ServiceError.invalidImportRow(row: 0, [FieldError("recorded_on", "the CSV header is missing")])
        }
        var columns: [String: Int] = [:]
        var headerErrors: [FieldError] = []
        for (index, name) in header.enumerated() {
            if !csvHeader.contains(name) {
                headerErrors.append(FieldError(name, "is not a known column"))
            } else if columns.updateValue(index, forKey: name) != nil {
                headerErrors.append(FieldError(name, "appears more than once"))
            }
        }
        for required in ["recorded_on", "weight"] where columns[required] == nil {
            headerErrors.append(FieldError(required, "the CSV header must name this column"))
        }
        guard headerErrors.isEmpty else { throw ServiceError.invalidImportRow(row: 0, headerErrors) }
        return records.dropFirst().enumerated().map { offset, record in
            var v = Validator()
            if record.count != header.count {
                v.fail(
                    header[min(record.count, header.count - 1)],
                    "the record has \(record.count) fields, the header \(header.count)")
            }
            func field(_ name: String) -> String? {
                guard let index = columns[name], index < record.count, !record[index].isEmpty else { return nil }
                return record[index]
            }
            var weight: Decimal?
            if let text = field("weight") {
                weight = JSONNumber(text)?.decimal
                if weight == nil { v.fail("weight", "must be a number") }
            }
            let unit = field("unit").flatMap { EntryRules.unit($0, &v) }
            let day = field("recorded_on").flatMap { EntryRules.date($0, &v, field: "recorded_on") }
            return ImportRow(
                number: offset + 1,
                entry: NewEntry(weight: weight, unit: unit, recordedOn: day, note: field("note"), problems: v.errors))
        }
    }

    /// JSON rows: an array of entry bodies; what JSON export adds (`id`, `created_at`, `updated_at`) is ignored.
    static func jsonRows(_ body: ByteBuffer) throws -> [ImportRow] {
        guard case .array(let items) = try RequestBodyReader.parseJSON(body) else {
            throw Problem.validation("body", "must be a JSON array of entries")
        }
        guard items.count <= EntryService.importLimit else {
            throw ServiceError.tooManyRows(limit: EntryService.importLimit)
        }
        return items.enumerated().map { offset, item in
            guard var reader = try? BodyReader(
                item, allowed: EntryRoutes.members, ignored: ["id", "created_at", "updated_at"])
            else {
                return ImportRow(
                    number: offset + 1,
                    entry: NewEntry(weight: nil, recordedOn: nil, problems: [FieldError("row", "must be a JSON object")]))
            }
            var entry = NewEntry(
                weight: reader.number("weight"), unit: reader.unitOrEmpty("unit"), recordedOn: reader.date("recorded_on"),
                note: reader.nullableString("note") ?? nil)
            entry.problems = reader.errors
            return ImportRow(number: offset + 1, entry: entry)
        }
    }
}
