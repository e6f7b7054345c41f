import Foundation

/// The contract's rules for account fields. Lengths count Unicode code points; emails and names are trimmed.
public enum AccountRules {
    public static let passwordLength = 8...128
    public static let emailLength = 254
    public static let nameLength = 1...255
    /// The display unit of a user who registers without one.
    public static let defaultWeightUnit = WeightUnit.kg

    /// Trimmed and lower-cased (Unicode default case mapping): the form stored and compared.
    public static func normalizedEmail(_ raw: String) -> String {
        raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    static func email(_ raw: String, _ v: inout Validator, field: String = "email") -> String {
        let email = normalizedEmail(raw)
        // Split by code point: "@" followed by a combining mark or emoji modifier is one grapheme, still one "@".
        let parts = email.unicodeScalars.split(separator: "@", omittingEmptySubsequences: false)
        if email.unicodeScalars.count > emailLength {
            v.fail(field, "must be at most \(emailLength) characters")
        } else if parts.count != 2 || parts[0].isEmpty || parts[1].isEmpty {
            v.fail(field, "must contain one @ with text on both sides")
        } else if email.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            v.fail(field, "must not contain control characters")
        }
        return email
    }

    static func name(_ raw: String, _ v: inout Validator) -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if !nameLength.contains(name.unicodeScalars.count) {
            v.fail("name", "must be \(nameLength.lowerBound) to \(nameLength.upperBound) characters after trimming")
        }
        return name
    }

    static func password(_ raw: String, _ v: inout Validator, field: String = "password") {
        if !passwordLength.contains(raw.unicodeScalars.count) {
            v.fail(field, "must be \(passwordLength.lowerBound) to \(passwordLength.upperBound) characters")
        }
    }

    /// A user's display unit as sent (`kg`, `lb`, or `lbs` taken as `lb`).
    public static func weightUnit(_ raw: String, _ v: inout Validator, field: String = "weight_unit") -> WeightUnit? {
        guard let unit = WeightUnit(input: raw) else {
            v.fail(field, "must be \"kg\" or \"lb\"")
            return nil
        }
        return unit
    }
}
