import Foundation
import HTTPTypes
import Hummingbird
import WeighinService
import WireFormats

/// An error answer in RFC 9457 problem JSON: `type`, `title`, `status`, `detail` and a stable `code`, plus
/// `errors` for field failures and `row` for a failing import row.
struct Problem: Error {
    var status: HTTPResponse.Status
    var code: ProblemCode
    var detail: String
    var errors: [FieldError] = []
    var row: Int?
    /// The stored entry and the unit to show it in (409 `version_conflict`).
    var current: (entry: Entry, display: WeightUnit)?
    /// Headers the answer needs: `Retry-After`, `WWW-Authenticate`, `Allow`.
    var headers: HTTPFields = [:]

    /// The answer, with the request id in the body and in `X-Request-ID`.
    func response(requestID: String) -> Response {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("type")
        writer.string(code.type)
        writer.key("title")
        writer.string(code.title)
        writer.key("status")
        writer.number(status.code)
        writer.key("detail")
        writer.string(detail)
        writer.key("code")
        writer.string(code.rawValue)
        if !errors.isEmpty {
            writer.key("errors")
            writer.beginArray()
            for error in errors {
                writer.beginObject()
                writer.key("field")
                writer.string(error.field)
                writer.key("message")
                writer.string(error.message)
                writer.endObject()
            }
            writer.endArray()
        }
        if let row {
            writer.key("row")
            writer.number(row)
        }
        if let current {
            writer.key("current")
            writer.entry(current.entry, display: current.display)
        }
        writer.key("request_id")
        writer.string(requestID)
        writer.endObject()
        var headers = headers
        headers[.contentType] = "application/problem+json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: writer.bytes)))
    }
}

extension Problem {
    static func validation(_ errors: [FieldError], detail: String = "The request breaks the rules below.") -> Problem {
        Problem(status: .unprocessableContent, code: .validationFailed, detail: detail, errors: errors)
    }

    static func validation(_ field: String, _ message: String) -> Problem {
        validation([FieldError(field, message)])
    }

    static func malformedJSON(_ detail: String) -> Problem {
        Problem(status: .badRequest, code: .malformedJSON, detail: detail)
    }

    static func malformedCSV(_ detail: String) -> Problem {
        Problem(status: .badRequest, code: .malformedCSV, detail: detail)
    }

    static func unsupportedMediaType(_ accepted: String) -> Problem {
        Problem(
            status: .unsupportedMediaType, code: .unsupportedMediaType, detail: "The body must be sent as \(accepted).")
    }

    static func payloadTooLarge(limit: Int) -> Problem {
        Problem(
            status: .contentTooLarge, code: .payloadTooLarge, detail: "The body must be at most \(Limits.text(limit)).")
    }

    static let unauthorized = Problem(
        status: .unauthorized, code: .unauthorized, detail: "A valid bearer token is required.",
        headers: [.wwwAuthenticate: "Bearer"])

    static let notFound = Problem(status: .notFound, code: .notFound, detail: "Nothing exists at this address.")

    static func methodNotAllowed(allowed: [HTTPRequest.Method]) -> Problem {
        let allow = allowed.map(\.rawValue).joined(separator: ", ")
        return Problem(
            status: .methodNotAllowed, code: .methodNotAllowed, detail: "This address answers \(allow).",
            headers: [.allow: allow])
    }

    static func rateLimited(retryAfter: Int, detail: String) -> Problem {
        Problem(status: .tooManyRequests, code: .rateLimited, detail: detail, headers: [.retryAfter: String(max(1, retryAfter))])
    }

    static func unavailable(retryAfter: Int, detail: String) -> Problem {
        Problem(
            status: .serviceUnavailable, code: .unavailable, detail: detail,
            headers: [.retryAfter: String(max(1, retryAfter))])
    }

    static let internalError = Problem(
        status: .internalServerError, code: .internalError,
        detail: "The server failed to answer; the failure has been logged.")
}
