import Foundation
import NIOCore
import WeighinService
import WireFormats

/// Reads an import body, CSV or JSON, into an `ImportBatch` row by row.
enum ImportReader {
    /// The CSV columns, in export order.
    static let csvColumns = ImportExportRoutes.csvHeader

    /// CSV: a header naming `weight` and `recorded_on` or `measured_at` (and optionally any other export column) in
    /// any order, then one record per entry; an empty note is null and an empty unit is the display unit. Records
    /// are checked as they are read: none is kept but in the batch's COPY encoding, which goes to the COPY as it
    /// fills. A first pass reads the syntax alone (keeping nothing), so a body that is not CSV answers 400 before any
    /// row is judged.
    static func readCSV(_ body: ByteBuffer, into batch: inout ImportBatch) throws {
        var columns: CSVColumns?
        var number = 0
        // Fields as long as the body: an overlong note is a row error on `note` (422), not unreadable CSV.
        let limits = CSVLimits(maxRecords: ImportBatch.limit + 1, maxFieldBytes: Limits.importBody)
        do {
            try body.withUnsafeReadableBytes { bytes in
                try CSVReader.forEachRecord(bytes, limits: limits) { (_: [String]) throws(ServiceError) in }
            }
            try body.withUnsafeReadableBytes { bytes in
                try CSVReader.forEachRecord(bytes, limits: limits) { (record: [String]) throws(ServiceError) in
                    guard let known = columns else {
                        columns = try CSVColumns(header: record)
                        return
                    }
                    number += 1
                    try batch.add(known.row(number, record))
                }
            }
        } catch let failure as CSVFailure<ServiceError> {
            switch failure {
            case .csv(let error) where error.kind == .tooManyRecords:
                throw ServiceError.tooManyRows(limit: ImportBatch.limit)
            case .csv(let error):
                throw Problem.malformedCSV("The body is not valid CSV: \(error.reason) (record \(error.record)).")
            case .handler(let error):
                throw error
            }
        }
        if columns == nil {
            throw ServiceError.invalidImportRow(row: 0, [FieldError("recorded_on", "the CSV header is missing")])
        }
    }

    /// JSON: an array of entry bodies; what JSON export adds (`id`, `created_at`, `updated_at`) is ignored.
    static func readJSON(_ body: ByteBuffer, into batch: inout ImportBatch) throws {
        guard case .array(let items) = try RequestBodyReader.parseJSON(body) else {
            throw Problem.validation("body", "must be a JSON array of entries")
        }
        guard items.count <= ImportBatch.limit else { throw ServiceError.tooManyRows(limit: ImportBatch.limit) }
        for (offset, item) in items.enumerated() {
            guard var reader = try? BodyReader(
                item, allowed: BodyReader.entryMembers,
                ignored: ["id", "created_at", "updated_at", "client_record_id", "client_version"])
            else {
                try batch.add(ImportRow(
                    number: offset + 1,
                    entry: NewEntry(weight: nil, recordedOn: nil, problems: [FieldError("row", "must be a JSON object")])))
                continue
            }
            var entry = reader.newEntry(importRow: true)
            entry.problems = reader.errors
            try batch.add(ImportRow(number: offset + 1, entry: entry))
        }
    }
}

/// Where each known column is in a CSV import, from its header.
private struct CSVColumns {
    let header: [String]
    let positions: [String: Int]

    /// Reads the header; unknown or repeated columns and missing required ones fail as row 0.
    init(header: [String]) throws(ServiceError) {
        var positions: [String: Int] = [:]
        var errors: [FieldError] = []
        for (index, name) in header.enumerated() {
            if !ImportReader.csvColumns.contains(name) {
                errors.append(FieldError(name, "is not a known column"))
            } else if positions.updateValue(index, forKey: name) != nil {
                errors.append(FieldError(name, "appears more than once"))
            }
        }
        if positions["weight"] == nil { errors.append(FieldError("weight", "the CSV header must name this column")) }
        if positions["recorded_on"] == nil, positions["measured_at"] == nil {
            errors.append(FieldError("recorded_on", "the CSV header must name recorded_on or measured_at"))
        }
        guard errors.isEmpty else { throw ServiceError.invalidImportRow(row: 0, errors) }
        self.header = header
        self.positions = positions
    }

    /// Data row `position` (1-based) as a decoded entry.
    func row(_ position: Int, _ record: [String]) -> ImportRow {
        var v = Validator()
        if record.count != header.count {
            v.fail(header[min(record.count, header.count - 1)], "the record has \(record.count) fields, the header \(header.count)")
        }
        func field(_ name: String) -> String? {
            guard let index = positions[name], index < record.count, !record[index].isEmpty else { return nil }
            return record[index]
        }
        /// A number written as JSON writes it (exactly, never through binary floating point).
        func number(_ name: String) -> Decimal? {
            guard let text = field(name) else { return nil }
            guard let value = JSONNumber(text)?.decimal else {
                v.fail(name, "must be a number")
                return nil
            }
            return value
        }
        let weight = number("weight")
        let unit = field("unit").flatMap { EntryRules.unit($0, &v) }
        let day = field("recorded_on").flatMap { EntryRules.date($0, &v, field: "recorded_on") }
        let measured = field("measured_at").flatMap { EntryRules.timestamp($0, &v, field: "measured_at") }
        var visceralFat: Int?
        if let text = field("visceral_fat") {
            visceralFat = JSONNumber(text)?.int
            if visceralFat == nil { v.fail("visceral_fat", "must be a whole number") }
        }
        let composition = BodyComposition(
            bodyFatPercent: number("body_fat_percent"), waterPercent: number("water_percent"),
            musclePercent: number("muscle_percent"), visceralFat: visceralFat, source: field("source"))
        return ImportRow(
            number: position,
            entry: NewEntry(
                weight: weight, unit: unit, recordedOn: day, measuredAt: measured, note: field("note"),
                composition: composition, problems: v.errors))
    }
}
