import NIOCore

/// Writes HTTP/1.1 requests as bytes ready to send on a keep-alive connection.
struct HTTPRequestEncoder: Sendable {
    /// The request target prefix, such as `/api`, put before every path.
    let basePath: String
    /// The value of the `Host` header.
    let host: String

    init(target: LoadTestTarget) {
        basePath = target.basePath
        host = target.hostHeader
    }

    /// The request line and headers up to, but not including, `Content-Length` and the closing empty line.
    func head(method: String, path: String, token: String?, contentType: String? = nil) -> ByteBuffer {
        var head = "\(method) \(basePath)\(path) HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: weighin-loadtest\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        if let contentType { head += "Content-Type: \(contentType)\r\n" }
        return ByteBuffer(string: head)
    }

    /// A complete request without a body.
    func request(method: String, path: String, token: String?) -> ByteBuffer {
        var buffer = head(method: method, path: path, token: token)
        buffer.writeStaticString("\r\n")
        return buffer
    }

    /// A complete request with a JSON body.
    func request(method: String, path: String, token: String?, json body: String) -> ByteBuffer {
        var buffer = head(method: method, path: path, token: token, contentType: "application/json")
        buffer.writeString("Content-Length: \(body.utf8.count)\r\n\r\n")
        buffer.writeString(body)
        return buffer
    }
}
