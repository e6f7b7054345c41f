import NIOCore

/// One complete HTTP/1.1 response as the load generator needs it.
struct ParsedResponse: Sendable, Equatable {
    /// The status code, such as 200.
    var status: Int
    /// Whether the connection may carry another request after this response.
    var keepAlive: Bool
    /// The body, when the parser was asked to keep bodies; `nil` otherwise.
    var body: ByteBuffer?
    /// `Retry-After` in whole seconds, when the answer has one (429 and 503 do).
    var retryAfter: Int? = nil
}

/// Why a byte stream is not a valid HTTP/1.1 response.
enum HTTPParseError: Error, Equatable, Sendable {
    /// The status line is not `HTTP/1.x NNN reason`.
    case invalidStatusLine
    /// A header line has no colon.
    case invalidHeader
    /// `Content-Length` is not a non-negative decimal number, or appears twice with different values.
    case invalidContentLength
    /// A chunk-size line is not hexadecimal, or a chunk is not followed by CRLF.
    case invalidChunk
    /// The status line and headers are longer than the parser accepts.
    case headTooLarge
    /// The connection closed in the middle of a response.
    case truncated
}
