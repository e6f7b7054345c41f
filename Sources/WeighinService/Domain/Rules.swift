import Foundation
import Postgres
import Primitives

/// Collects field failures so a request reports all of them at once.
struct Validator {
    private(set) var errors: [FieldError] = []

    mutating func fail(_ field: String, _ message: String) {
        errors.append(FieldError(field, message))
    }

    /// Throws `ServiceError.validation` when any field failed.
    func check() throws(ServiceError) {
        if !errors.isEmpty { throw ServiceError.validation(errors) }
    }
}

/// The contract's rules for account fields. Lengths count Unicode code points; emails and names are trimmed.
enum AccountRules {
    static let passwordLength = 8...128

    /// Trimmed and lower-cased (Unicode default case mapping): the form stored and compared.
    static func normalizedEmail(_ raw: String) -> String {
        raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    static func email(_ raw: String, _ v: inout Validator, field: String = "email") -> String {
        let email = normalizedEmail(raw)
        // Split by code point: "@" followed by a combining mark or emoji modifier is one grapheme, still one "@".
        let parts = email.unicodeScalars.split(separator: "@", omittingEmptySubsequences: false)
        if email.unicodeScalars.count > 254 {
            v.fail(field, "must be at most 254 characters")
        } else if parts.count != 2 || parts[0].isEmpty || parts[1].isEmpty {
            v.fail(field, "must contain one @ with text on both sides")
        } else if email.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            v.fail(field, "must not contain control characters")
        }
        return email
    }

    static func name(_ raw: String, _ v: inout Validator) -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if !(1...255).contains(name.unicodeScalars.count) {
            v.fail("name", "must be 1 to 255 characters after trimming")
        } else if name.unicodeScalars.contains("\u{0}") {
            v.fail("name", "must not contain NUL characters")
        }
        return name
    }

    static func password(_ raw: String, _ v: inout Validator, field: String = "password") {
        if !passwordLength.contains(raw.unicodeScalars.count) {
            v.fail(field, "must be 8 to 128 characters")
        }
    }

    static func weightUnit(_ raw: String, _ v: inout Validator, field: String = "weight_unit") -> WeightUnit? {
        guard let unit = WeightUnit(input: raw) else {
            v.fail(field, "must be \"kg\" or \"lb\"")
            return nil
        }
        return unit
    }
}

/// The contract's rules for entry fields.
enum EntryRules {
    static let earliestDay = CalendarDate(year: 1900, month: 1, day: 1)!
    static let noteLength = 500

    static func weight(_ value: Decimal, unit: WeightUnit, _ v: inout Validator, field: String = "weight") {
        if value.isNaN || value <= 0 {
            v.fail(field, "must be greater than 0")
        } else if value > unit.maximum {
            v.fail(field, "must be at most 1000 kg (2204.62 lb)")
        } else if !Weight.hasAtMost(places: 2, value) {
            v.fail(field, "must have at most 2 decimal places")
        }
    }

    static func unit(_ raw: String, _ v: inout Validator, field: String = "unit") -> WeightUnit? {
        guard let unit = WeightUnit(input: raw) else {
            v.fail(field, "must be \"kg\", \"lb\" or \"lbs\"")
            return nil
        }
        return unit
    }

    /// A real calendar day `YYYY-MM-DD` from 1900-01-01 to tomorrow (UTC).
    static func recordedOn(_ raw: String, _ v: inout Validator, field: String = "recorded_on") -> CalendarDate? {
        guard let day = CalendarDate(iso: raw) else {
            v.fail(field, "must be a real date written YYYY-MM-DD")
            return nil
        }
        let latest = CalendarDate.today().adding(days: 1)
        guard day >= earliestDay, day <= latest else {
            v.fail(field, "must be from 1900-01-01 to \(latest)")
            return nil
        }
        return day
    }

    static func note(_ raw: String?, _ v: inout Validator, field: String = "note") {
        guard let raw else { return }
        if raw.unicodeScalars.count > noteLength {
            v.fail(field, "must be at most 500 characters")
        } else if raw.unicodeScalars.contains("\u{0}") {
            v.fail(field, "must not contain NUL characters")
        }
    }
}
