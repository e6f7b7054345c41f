import Foundation
import HTTPTypes
import Hummingbird

/// The web app at `/`, the API reference at `/docs` and their files at `/assets/{file}`: public static files with
/// strict security headers, validators and gzip.
///
/// They are pages for people, not operations of the API: the router serves them beside `RouteTable.all`, and the
/// OpenAPI document (built from that table alone) leaves them out.
struct WebPages: Sendable {
    /// The router paths of the pages, in OpenAPI form (each answers GET and HEAD).
    static let paths = ["/", "/docs", "/assets/{file}"]

    /// Scripts, styles, images and calls to the API from this origin only; no inline script or style, no plugin,
    /// no `<base>`, no native form submission (forms are sent by the app's script, never as a URL with the
    /// password in it), no framing, and Trusted Types with no policy, so assigning text to `innerHTML` or the
    /// like throws instead of parsing it as HTML.
    static let contentSecurityPolicy = [
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'",
        "object-src 'none'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
        "require-trusted-types-for 'script'", "trusted-types 'none'",
    ].joined(separator: "; ")

    let files: WebFiles

    /// Adds the pages to `router` (HEAD follows from GET through the router's option).
    func add(to router: Router<AppRequestContext>) {
        router.on("/", method: .get) { request, _ in try serve("/", request) }
        router.on("/docs", method: .get) { request, _ in try serve("/docs", request) }
        router.on("/assets/:file", method: .get) { request, context in
            try serve("/assets/" + (context.parameters.get("file") ?? ""), request)
        }
    }

    /// The methods served at a concrete path, like `RouteTable.methods(forPath:)`: for a 405's `Allow`. A path
    /// matches one of `paths` segment by segment, a `{…}` segment matching any one.
    func methods(forPath path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/")
        let known = Self.paths.contains { pattern in
            let parts = pattern.split(separator: "/")
            return parts.count == segments.count && zip(parts, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }
        return known ? [.get, .head] : []
    }

    /// The file at `path`: 200 with its body (gzip when the request accepts it and that helps), 304 when the
    /// request's `If-None-Match` names the tag of what would be sent, 404 problem JSON when there is none.
    func serve(_ path: String, _ request: Request) throws -> Response {
        guard let file = files.files[path] else { throw Problem.notFound }
        var headers: HTTPFields = [
            .contentSecurityPolicy: Self.contentSecurityPolicy, .xContentTypeOptions: "nosniff",
            HTTPField.Name("Referrer-Policy")!: "no-referrer",
            // Public, and checked again on every use: the files change with the binary, under the same names.
            .cacheControl: "no-cache",
        ]
        var body = file.body
        var etag = file.etag
        if let gzip = file.gzip {
            headers[.vary] = "Accept-Encoding"
            if Self.acceptsGzip(request.headers[values: .acceptEncoding]) {
                body = gzip.body
                etag = gzip.etag
                headers[.contentEncoding] = "gzip"
            }
        }
        headers[.eTag] = etag
        if Self.matches(request.headers[values: .ifNoneMatch], etag) {
            headers[.contentEncoding] = nil
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = file.contentType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }

    /// Whether `Accept-Encoding` allows gzip: named (or `x-gzip`), or `*`, with a quality above 0, and not refused
    /// by name.
    static func acceptsGzip(_ values: [String]) -> Bool {
        var named: Bool?
        var any = false
        for value in values {
            for item in value.split(separator: ",") {
                let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                guard let coding = parts.first, !coding.isEmpty else { continue }
                let quality = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
                switch coding {
                case "gzip", "x-gzip": named = quality > 0
                case "*": any = quality > 0
                default: continue
                }
            }
        }
        return named ?? any
    }

    /// Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 asks for this header) or is `*`.
    static func matches(_ values: [String], _ etag: String) -> Bool {
        values.contains { value in
            value.split(separator: ",").contains { item in
                let tag = item.trimmingCharacters(in: .whitespaces)
                return tag == "*" || tag == etag || tag == "W/" + etag
            }
        }
    }
}
