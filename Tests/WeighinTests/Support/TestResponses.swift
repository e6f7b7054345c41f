import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import WireFormats

extension TestResponse {
    /// The body parsed as JSON (`.null` when it is not JSON).
    var json: JSONValue {
        (try? body.withUnsafeReadableBytes { try JSONParser.parse($0) }) ?? .null
    }

    /// The body as text.
    var text: String {
        String(buffer: body)
    }
}

extension JSONValue {
    subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension TestResponse {
    /// A header by name.
    func header(_ name: String) -> String? {
        headers[HTTPField.Name(name)!]
    }

    /// The Content-Type without parameters, lower-cased.
    var mediaType: String? {
        headers[.contentType].map {
            ($0.split(separator: ";").first.map(String.init) ?? $0).trimmingCharacters(in: .whitespaces).lowercased()
        }
    }

    /// The body bytes.
    var bytes: [UInt8] {
        Array(buffer: body)
    }
}

extension JSONValue {
    /// The exact value of a number.
    var decimal: Decimal? {
        numberValue?.decimal
    }

    /// A whole number.
    var intValue: Int? {
        numberValue?.int
    }

    /// The member names of an object.
    var keys: Set<String> {
        Set(objectValue?.keys ?? [])
    }

    /// The object without some members (such as `request_id`), to compare answers.
    func removing(_ names: Set<String>) -> JSONValue {
        guard case .object(let object) = self else { return self }
        return .object(JSONObject(object.members.filter { !names.contains($0.key) }))
    }
}

// MARK: - Expectations shared by the route tests

/// The members of a user object.
let userMembers: Set<String> = ["id", "email", "name", "weight_unit", "created_at"]
/// The members of an entry object.
let entryMembers: Set<String> = [
    "id", "weight", "unit", "recorded_on", "measured_at", "note", "body_fat_percent", "water_percent", "muscle_percent",
    "visceral_fat", "source", "client_record_id", "client_version", "created_at", "updated_at",
]

/// Checks an RFC 9457 problem answer: status, `application/problem+json`, `type`/`title`/`detail`/`code` strings,
/// `status` equal to the HTTP status, and `code` when given. Returns the body.
@discardableResult
func expectProblem(
    _ response: TestResponse, _ status: HTTPResponse.Status, _ code: String? = nil,
    _ comment: String = "", sourceLocation: SourceLocation = #_sourceLocation
) -> JSONValue {
    let context = "\(comment) \(response.status): \(response.text.prefix(400))"
    #expect(response.status == status, "\(context)", sourceLocation: sourceLocation)
    #expect(response.mediaType == "application/problem+json", "\(context)", sourceLocation: sourceLocation)
    let problem = response.json
    for member in ["type", "title", "detail", "code"] {
        #expect(problem[member]?.stringValue?.isEmpty == false, "no \(member): \(context)", sourceLocation: sourceLocation)
    }
    #expect(problem["status"]?.intValue == status.code, "\(context)", sourceLocation: sourceLocation)
    if let code {
        #expect(problem["code"]?.stringValue == code, "\(context)", sourceLocation: sourceLocation)
    }
    return problem
}

/// The `errors[].field` values of a problem.
func errorFields(_ problem: JSONValue) -> [String] {
    (problem["errors"]?.arrayValue ?? []).compactMap { $0["field"]?.stringValue }
}

/// Checks a 422 `validation_failed` whose `errors` name `field` (each error a `{field, message}` of strings).
@discardableResult
func expectValidation(
    _ response: TestResponse, field: String, _ comment: String = "", sourceLocation: SourceLocation = #_sourceLocation
) -> JSONValue {
    let problem = expectProblem(response, .unprocessableContent, "validation_failed", comment, sourceLocation: sourceLocation)
    let errors = problem["errors"]?.arrayValue ?? []
    #expect(!errors.isEmpty, "\(comment): no errors in \(response.text)", sourceLocation: sourceLocation)
    for error in errors {
        #expect(error["field"]?.stringValue != nil && error["message"]?.stringValue != nil,
                "\(comment): \(error)", sourceLocation: sourceLocation)
    }
    #expect(errorFields(problem).contains(field), "\(comment): expected field \(field) in \(response.text.prefix(400))",
            sourceLocation: sourceLocation)
    return problem
}

/// Checks a 401 `unauthorized` with `WWW-Authenticate: Bearer`.
func expectUnauthorized(_ response: TestResponse, _ comment: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    expectProblem(response, .unauthorized, "unauthorized", comment, sourceLocation: sourceLocation)
    let challenge = response.headers[.wwwAuthenticate] ?? ""
    #expect(challenge.lowercased().hasPrefix("bearer"), "\(comment): WWW-Authenticate is \(challenge)",
            sourceLocation: sourceLocation)
}
