import Foundation
import WeighinService
import WireFormats

/// Reads the members of a JSON object strictly: unknown or repeated members, wrong types and missing required
/// members all become field errors, reported together (a typo such as `wieght` is never silently dropped).
struct BodyReader {
    private let object: JSONObject
    private(set) var errors: [FieldError] = []

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
                errors.append(FieldError(key, "appears more than once"))
            } else if !allowed.contains(key) && !ignored.contains(key) {
                errors.append(FieldError(key, "is not a known field"))
            }
        }
    }

    /// A string member; a missing required member or another type is an error.
    mutating func string(_ key: String, required: Bool = false) -> String? {
        switch object[key] {
        case .string(let value)?: return value
        case nil:
            if required { errors.append(FieldError(key, "is required")) }
            return nil
        default:
            errors.append(FieldError(key, "must be a string"))
            return nil
        }
    }

    /// A member that is a string or null: nil when absent, `.some(nil)` when null.
    mutating func nullableString(_ key: String) -> String?? {
        switch object[key] {
        case nil: return nil
        case .null?: return .some(nil)
        case .string(let value)?: return .some(value)
        default:
            errors.append(FieldError(key, "must be a string or null"))
            return nil
        }
    }

    /// A number member, exactly as written (never through binary floating point).
    mutating func number(_ key: String, required: Bool = false) -> Decimal? {
        switch object[key] {
        case .number(let number)?:
            guard let value = number.decimal else {
                errors.append(FieldError(key, "is out of range"))
                return nil
            }
            return value
        case nil:
            if required { errors.append(FieldError(key, "is required")) }
            return nil
        default:
            errors.append(FieldError(key, "must be a number"))
            return nil
        }
    }

    /// Throws 422 with every field error found.
    func finish() throws(Problem) {
        if !errors.isEmpty { throw Problem.validation(errors) }
    }
}
