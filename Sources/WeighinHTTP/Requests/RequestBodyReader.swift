import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import WireFormats

/// Reads request bodies: media type first (415), then size (413), then syntax (400).
enum RequestBodyReader {
    /// The body's media type, lower-cased, without parameters (`application/json; charset=utf-8` is
    /// `application/json`); nil when there is no Content-Type.
    static func mediaType(of request: Request) -> String? {
        guard let value = request.headers[.contentType] else { return nil }
        let type = value.split(separator: ";", maxSplits: 1).first.map(String.init) ?? value
        return type.trimmingCharacters(in: .whitespaces).lowercased()
    }

    /// Whether the Content-Type's charset, if any, is UTF-8.
    static func isUTF8(_ request: Request) -> Bool {
        guard let value = request.headers[.contentType]?.lowercased(), let range = value.range(of: "charset=") else {
            return true
        }
        let charset = value[range.upperBound...].prefix { $0 != ";" }
            .trimmingCharacters(in: CharacterSet(charactersIn: " \"'"))
        return charset == "utf-8" || charset == "utf8"
    }

    /// The whole body, refusing (413) more than `limit` bytes, from `Content-Length` before reading when it says so.
    static func collect(_ request: Request, limit: Int) async throws -> ByteBuffer {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw Problem.payloadTooLarge(limit: limit)
        }
        var buffer = ByteBuffer()
        for try await part in request.body {
            guard buffer.readableBytes + part.readableBytes <= limit else { throw Problem.payloadTooLarge(limit: limit) }
            var part = part
            buffer.writeBuffer(&part)
        }
        return buffer
    }

    /// A JSON body (1 MiB at most): 415 unless `application/json` in UTF-8, 413 when larger, 400 when not JSON.
    static func json(_ request: Request, limit: Int = Limits.jsonBody) async throws -> JSONValue {
        guard mediaType(of: request) == "application/json", isUTF8(request) else {
            throw Problem.unsupportedMediaType("application/json")
        }
        return try parseJSON(try await collect(request, limit: limit))
    }

    /// Parses JSON bytes; nesting deeper than the limit is refused as 422 (it is JSON, just not acceptable).
    static func parseJSON(_ buffer: ByteBuffer) throws -> JSONValue {
        do {
            return try buffer.withUnsafeReadableBytes { try JSONParser.parse($0, limits: JSONLimits()) }
        } catch let error as JSONParseError where error.kind == .limitExceeded {
            throw Problem.validation("body", "is nested too deeply or holds too much: \(error.reason)")
        } catch let error as JSONParseError {
            throw Problem.malformedJSON("The body is not valid JSON: \(error.reason) at byte \(error.offset).")
        }
    }
}

