/// The base URL under test: a plain-HTTP host, port and optional path prefix.
public struct LoadTestTarget: Sendable, Equatable, CustomStringConvertible {
    /// The host name or address to connect to, without brackets for IPv6.
    public var host: String
    /// The TCP port.
    public var port: Int
    /// A path prefix put before every API path, empty or starting with `/` and not ending with it.
    public var basePath: String

    /// Parses `http://host[:port][/prefix]`; `https` is refused, since the generator speaks plain HTTP only.
    public init(parsing text: String) throws(LoadTestError) {
        let lowercased = text.lowercased()
        if lowercased.hasPrefix("https://") {
            throw LoadTestError("--url \(text): https is not supported; point the load test at the plain-HTTP listener (such as http://127.0.0.1:8080)")
        }
        guard lowercased.hasPrefix("http://") else {
            throw LoadTestError("--url \(text): expected an http:// URL, such as http://127.0.0.1:8080")
        }
        var rest = Substring(text.dropFirst("http://".count))
        if let queryStart = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            rest = rest[..<queryStart]
        }
        let authority = rest.prefix { $0 != "/" }
        var path = String(rest.dropFirst(authority.count))
        while path.hasSuffix("/") { path.removeLast() }
        guard !authority.contains("@") else { throw LoadTestError("--url \(text): credentials in the URL are not supported") }

        var hostPart = Substring(authority)
        var portPart: Substring?
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else { throw LoadTestError("--url \(text): unclosed [ in the host") }
            let after = hostPart[hostPart.index(after: close)...]
            if after.hasPrefix(":") { portPart = after.dropFirst() } else if !after.isEmpty {
                throw LoadTestError("--url \(text): unexpected text after the host")
            }
            hostPart = hostPart[hostPart.index(after: hostPart.startIndex)..<close]
        } else if let colon = hostPart.lastIndex(of: ":") {
            portPart = hostPart[hostPart.index(after: colon)...]
            hostPart = hostPart[..<colon]
        }
        guard !hostPart.isEmpty else { throw LoadTestError("--url \(text): missing host") }
        var port = 80
        if let portPart {
            guard let parsed = Int(portPart), (1...65535).contains(parsed) else {
                throw LoadTestError("--url \(text): invalid port '\(portPart)'")
            }
            port = parsed
        }
        host = String(hostPart)
        self.port = port
        basePath = path
    }

    /// The value of the `Host` header.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == 80 ? name : "\(name):\(port)"
    }

    /// The URL in canonical form.
    public var description: String { "http://\(hostHeader)\(basePath)" }
}
