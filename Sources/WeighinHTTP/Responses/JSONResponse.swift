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

    /// An empty answer (204).
    static func noContent() -> Response {
        Response(status: .noContent)
    }
}
