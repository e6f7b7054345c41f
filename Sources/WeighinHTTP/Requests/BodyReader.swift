import Foundation
import Primitives
import WeighinService
import WireFormats

/// Reads the members of a JSON object strictly into typed values: unknown or repeated members, wrong types, text
/// the service's parsing rules refuse and missing required members all become field errors, reported together with
/// the service's own checks (a typo such as `wieght` is never silently dropped).
struct BodyReader {
    private let object: JSONObject
    private var validator = Validator()
    /// Every member that could not be decoded.
    var errors: [FieldError] { validator.errors }

    /// - Parameters:
    ///   - allowed: the members this body may have.
    ///   - ignored: members accepted and not read (such as `id` in an imported export).
    init(_ value: JSONValue, allowed: Set<String>, ignored: Set<String> = []) throws(Problem) {
        guard case .object(let object) = value else {
            throw Problem.validation("body", "must be a JSON object")
        }
        self.object = object
        var seen = Set<String>()
        for key in object.keys {
            if !seen.insert(key).inserted {
                validator.fail(key, "appears more than once")
            } else if !allowed.contains(key) && !ignored.contains(key) {
                validator.fail(key, "is not a known field")
            }
        }
    }

    /// A string member; a missing required member, another type or a NUL character is an error (libpq would cut
    /// the text at the NUL: it is refused, never stored cut short).
    mutating func string(_ key: String, required: Bool = false) -> String? {
        switch object[key] {
        case .string(let value)?: return withoutNUL(value, key)
        case nil:
            if required { validator.fail(key, "is required") }
            return nil
        default:
            validator.fail(key, "must be a string")
            return nil
        }
    }

    /// A member that is a string or null: nil when absent, `.some(nil)` when null.
    mutating func nullableString(_ key: String) -> String?? {
        switch object[key] {
        case nil: return nil
        case .null?: return .some(nil)
        case .string(let value)?: return withoutNUL(value, key).map { .some($0) }
        default:
            validator.fail(key, "must be a string or null")
            return nil
        }
    }

    private mutating func withoutNUL(_ value: String, _ key: String) -> String? {
        guard value.utf8.contains(0) else { return value }
        validator.fail(key, "must not contain NUL characters")
        return nil
    }

    /// A number member, exactly as written (never through binary floating point).
    mutating func number(_ key: String, required: Bool = false) -> Decimal? {
        switch object[key] {
        case .number(let number)?:
            guard let value = number.decimal else {
                validator.fail(key, "is out of range")
                return nil
            }
            return value
        case nil:
            if required { validator.fail(key, "is required") }
            return nil
        default:
            validator.fail(key, "must be a number")
            return nil
        }
    }

    /// An array-of-strings member; another type, or a member of another type, is an error.
    mutating func strings(_ key: String) -> [String]? {
        switch object[key] {
        case .array(let items)?:
            var strings: [String] = []
            for item in items {
                guard case .string(let text) = item, let value = withoutNUL(text, key) else {
                    if case .string = item {} else { validator.fail(key, "must be an array of strings") }
                    return nil
                }
                strings.append(value)
            }
            return strings
        case nil:
            return nil
        default:
            validator.fail(key, "must be an array of strings")
            return nil
        }
    }

    /// A whole-number member (`9` or `9.0`), within `range` when one is given.
    mutating func integer(_ key: String, in range: ClosedRange<Int>? = nil) -> Int? {
        switch object[key] {
        case .number(let number)?:
            if let value = number.int, range?.contains(value) ?? true { return value }
        case nil:
            return nil
        default:
            break
        }
        let within = range.map { " from \($0.lowerBound) to \($0.upperBound)" } ?? ""
        validator.fail(key, "must be a whole number" + within)
        return nil
    }

    /// An RFC 3339 timestamp member with its UTC offset, by the service's rule.
    mutating func timestamp(_ key: String) -> OffsetTimestamp? {
        string(key).flatMap { EntryRules.timestamp($0, &validator, field: key) }
    }

    /// A member that may be null, read by `read` otherwise: nil when absent, `.some(nil)` when null.
    mutating func nullable<T>(_ key: String, _ read: (inout BodyReader, String) -> T?) -> T?? {
        switch object[key] {
        case nil: nil
        case .null?: .some(nil)
        default: read(&self, key).map { .some($0) }
        }
    }

    /// A unit member (`kg`, `lb` or `lbs`), by the service's rule.
    mutating func unit(_ key: String) -> WeightUnit? {
        string(key).flatMap { EntryRules.unit($0, &validator, field: key) }
    }

    /// A unit member of an import row, where null and an empty string mean "the display unit" as in CSV.
    mutating func unitOrEmpty(_ key: String) -> WeightUnit? {
        guard let raw = nullableString(key) ?? nil, !raw.isEmpty else { return nil }
        return EntryRules.unit(raw, &validator, field: key)
    }

    /// A user's display unit member, by the service's rule.
    mutating func weightUnit(_ key: String) -> WeightUnit? {
        string(key).flatMap { AccountRules.weightUnit($0, &validator, field: key) }
    }

    /// A token scope member (`read` or `write`), by the service's rule.
    mutating func scope(_ key: String) -> TokenScope? {
        string(key).flatMap { TokenRules.scope($0, &validator, field: key) }
    }

    /// A `YYYY-MM-DD` date member that exists.
    mutating func date(_ key: String, required: Bool = false) -> CalendarDate? {
        string(key, required: required).flatMap { EntryRules.date($0, &validator, field: key) }
    }

    /// Throws 422 with every field error found: for bodies the service has no rules for.
    func finish() throws(Problem) {
        if !errors.isEmpty { throw Problem.validation(errors) }
    }
}
