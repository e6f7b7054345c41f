import HTTPTypes
import Hummingbird
import NIOCore
import WireFormats

/// Builds JSON answers straight from a `JSONWriter` (no Codable on the hot path).
enum JSONResponse {
    static func make(
        _ status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], _ write: (inout JSONWriter) -> Void
    ) -> Response {
        var writer = JSONWriter()
        write(&writer)
        return bytes(writer.bytes, status: status, headers: headers)
    }

    /// An answer whose JSON body is already rendered.
    static func bytes(_ body: [UInt8], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// An answer with its strong `ETag`. A read (GET, HEAD) whose `If-None-Match` names the tag (or is `*`) answers
    /// 304 with the tag and no body: the client's copy is current.
    /// `capacity` is the body's expected length, when known (a listing's pages), so that the output grows once.
    static func tagged(
        _ request: Request, _ status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], capacity: Int = 0,
        _ write: (inout JSONWriter) -> Void
    ) -> Response {
        var writer = JSONWriter(capacity: capacity)
        write(&writer)
        return tagged(request, writer.bytes, status: status, headers: headers)
    }

    /// `tagged` with the JSON body already rendered.
    static func tagged(
        _ request: Request, _ body: [UInt8], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]
    ) -> Response {
        let tag = EntityTag.of(body)
        var headers = headers
        headers[.eTag] = tag
        if request.method == .get || request.method == .head,
            let conditions = EntityTag.conditions(.ifNoneMatch, of: request),
            EntityTag.noneMatchFails(conditions, tag: tag)
        {
            return Response(status: .notModified, headers: headers)
        }
        return bytes(body, status: status, headers: headers)
    }

    /// `{"member": [...]}`: each item written by `write`.
    static func list<Item>(_ member: StaticString, _ items: [Item], _ write: (inout JSONWriter, Item) -> Void) -> Response {
        make { writer in
            writer.beginObject()
            writer.key(member)
            writer.beginArray()
            for item in items { write(&writer, item) }
            writer.endArray()
            writer.endObject()
        }
    }

    /// An empty answer (204).
    static func noContent() -> Response {
        Response(status: .noContent)
    }
}
