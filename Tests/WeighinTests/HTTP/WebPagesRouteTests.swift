import CZlib
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
@testable import WeighinHTTP

/// HTTP: the web app at `/`, the API reference at `/docs` and their files: security headers, validators, gzip, and
/// nothing but this origin's files. (The pages themselves are driven in a real browser by `checks/browser`.)
@Suite("HTTP: the web app's and the API reference's files")
struct WebPagesRouteTests {
    /// Every path served: the two pages and each file of `assets/`.
    static let servedPaths = WebFiles.bundled.files.keys.sorted()

    /// The CSP's directives by name, each with its sources.
    static func directives(_ policy: String) -> [String: [String]] {
        var directives: [String: [String]] = [:]
        for directive in policy.split(separator: ";") {
            let words = directive.split(separator: " ").map(String.init)
            if let name = words.first { directives[name] = Array(words.dropFirst()) }
        }
        return directives
    }

    @Test func thePagesAndTheirFilesAreServedWithStrictSecurityHeaders() async throws {
        #expect(Self.servedPaths.contains("/") && Self.servedPaths.contains("/docs"))
        #expect(Self.servedPaths.contains("/assets/app.js") && Self.servedPaths.contains("/assets/style.css"))
        try await TestApp.run { client, _ in
            for path in Self.servedPaths {
                let response = try await client.send(.get, path)
                #expect(response.status == .ok, "\(path)")
                #expect(response.header("X-Content-Type-Options") == "nosniff", "\(path)")
                #expect(response.header("Referrer-Policy") == "no-referrer", "\(path)")
                #expect(response.headers[.cacheControl] == "no-cache", "\(path)")
                #expect(response.headers[.eTag]?.hasPrefix("\"") == true, "\(path)")
                #expect(response.header("X-Request-ID") != nil, "\(path)")
                let policy = Self.directives(response.headers[.contentSecurityPolicy] ?? "")
                #expect(policy["default-src"] == ["'self'"], "\(path)")
                #expect(policy["script-src"] == ["'self'"], "\(path)")
                #expect(policy["style-src"] == ["'self'"], "\(path)")
                #expect(policy["frame-ancestors"] == ["'none'"], "\(path)")
                #expect(policy["object-src"] == ["'none'"], "\(path)")
                #expect(policy["require-trusted-types-for"] == ["'script'"], "\(path)")
                #expect(!(response.headers[.contentSecurityPolicy] ?? "").contains("unsafe"), "\(path)")
                let type = response.headers[.contentType] ?? ""
                switch (path as NSString).pathExtension {
                case "js": #expect(type == "text/javascript; charset=utf-8", "\(path)")
                case "css": #expect(type == "text/css; charset=utf-8", "\(path)")
                case "svg": #expect(type == "image/svg+xml", "\(path)")
                default: #expect(type == "text/html; charset=utf-8", "\(path)")
                }
            }
        }
    }

    @Test func thePagesUseNoInlineScriptOrStyleAndNothingFromOtherSites() async throws {
        for path in Self.servedPaths {
            let text = String(buffer: try #require(WebFiles.bundled.files[path]).body)
            // No address of another site; the SVG namespace is a name, never fetched.
            let addresses = text.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "")
            #expect(!addresses.contains("http://") && !addresses.contains("https://"), "\(path)")
            #expect(!addresses.contains("@import"), "\(path)")
            guard path == "/" || path == "/docs" else { continue }
            // Every script has its own file, no element has a style or an on… attribute, no <style> element.
            let scripts = text.components(separatedBy: "<script").dropFirst()
            #expect(!scripts.isEmpty, "\(path)")
            for script in scripts {
                #expect(script.hasPrefix(" type=\"module\" src=\"/assets/"), "\(path): <script\(script.prefix(60))")
            }
            #expect(!text.contains("<style") && !text.contains(" style="), "\(path)")
            #expect(text.range(of: #"\son[a-z]+="#, options: .regularExpression) == nil, "\(path)")
        }
    }

    @Test func everyFileAPageOrAScriptNamesIsServed() async throws {
        var named: Set<String> = []
        for path in Self.servedPaths {
            let text = String(buffer: try #require(WebFiles.bundled.files[path]).body)
            // HTML's src and href to /assets/, and the modules' `import … from './x.js'`.
            for pattern in [#"(?:src|href)="(/assets/[^"]+)""#, #"from '\./([^']+)'"#] {
                let expression = try NSRegularExpression(pattern: pattern)
                for match in expression.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                    let found = String(text[Range(match.range(at: 1), in: text)!])
                    named.insert(found.hasPrefix("/") ? found : "/assets/" + found)
                }
            }
        }
        #expect(named.count >= 8, "\(named)")
        let paths = named.sorted()
        try await TestApp.run { client, _ in
            for path in paths {
                let status = try await client.send(.get, path).status
                #expect(status == .ok, "\(path)")
            }
        }
    }

    @Test func compressedWhenAcceptedAndWhenItHelps() async throws {
        try await TestApp.run { client, _ in
            let plain = try await client.send(.get, "/assets/app.js")
            #expect(plain.headers[.contentEncoding] == nil)
            #expect(plain.headers[.vary] == "Accept-Encoding")
            for accepted in ["gzip", "gzip, deflate, br", "br;q=1, gzip;q=0.5", "*", "x-gzip"] {
                let zipped = try await client.send(.get, "/assets/app.js", headers: [.acceptEncoding: accepted])
                #expect(zipped.headers[.contentEncoding] == "gzip", "\(accepted)")
                #expect(zipped.headers[.vary] == "Accept-Encoding", "\(accepted)")
                #expect(zipped.headers[.eTag] != plain.headers[.eTag], "each form has its own tag")
                #expect(zipped.body.readableBytes * 2 < plain.body.readableBytes, "\(accepted)")
                #expect(try Self.gunzip(Array(buffer: zipped.body)) == Array(buffer: plain.body), "\(accepted)")
            }
            for refused in ["identity", "gzip;q=0", "br", "*;q=0", "*, gzip;q=0"] {
                let answer = try await client.send(.get, "/assets/app.js", headers: [.acceptEncoding: refused])
                #expect(answer.headers[.contentEncoding] == nil, "\(refused)")
                #expect(answer.body == plain.body, "\(refused)")
            }
        }
    }

    @Test func aFileGzipHardlyShrinksIsKeptAsItIs() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("web-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var generator = SystemRandomNumberGenerator()
        let noise = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let url = folder.appendingPathComponent("noise.js")
        try Data(noise).write(to: url)
        let file = try WebFiles.file(url)
        #expect(file.gzip == nil)
        #expect(file.etag == "\"\(WebFiles.tag(noise))\"")
        #expect(throws: WebFiles.UnknownKind.self) {
            let other = folder.appendingPathComponent("notes.txt")
            try Data("text".utf8).write(to: other)
            _ = try WebFiles.file(other)
        }
    }

    @Test func aMatchingTagAnswers304AndAStaleOne200() async throws {
        try await TestApp.run { client, _ in
            for accept in ["", "gzip"] {
                let headers: HTTPFields = accept.isEmpty ? [:] : [.acceptEncoding: accept]
                let first = try await client.send(.get, "/", headers: headers)
                let tag = try #require(first.headers[.eTag])
                for sent in [tag, "W/\(tag)", "\"other\", \(tag)", "*"] {
                    var conditional = headers
                    conditional[.ifNoneMatch] = sent
                    let again = try await client.send(.get, "/", headers: conditional)
                    #expect(again.status == .notModified, "\(sent)")
                    #expect(again.body.readableBytes == 0)
                    #expect(again.headers[.eTag] == tag)
                    #expect(again.headers[.contentSecurityPolicy] != nil)
                }
                var stale = headers
                stale[.ifNoneMatch] = "\"0123456789abcdef0123456789abcdef\""
                let changed = try await client.send(.get, "/", headers: stale)
                #expect(changed.status == .ok)
                #expect(changed.body == first.body)
            }
            // The tag of one form never validates the other.
            let plainTag = try #require(try await client.send(.get, "/").headers[.eTag])
            let other = try await client.send(.get, "/", headers: [.acceptEncoding: "gzip", .ifNoneMatch: plainTag])
            #expect(other.status == .ok && other.headers[.contentEncoding] == "gzip")
        }
    }

    @Test func headAnswersWithoutABody() async throws {
        try await TestApp.run { client, _ in
            let head = try await client.send(.head, "/docs")
            #expect(head.status == .ok)
            #expect(head.body.readableBytes == 0)
            #expect(head.headers[.contentType] == "text/html; charset=utf-8")
            #expect(head.headers[.contentSecurityPolicy] != nil)
        }
    }

    @Test func otherMethodsAre405AndUnknownFiles404ProblemJSON() async throws {
        try await TestApp.run { client, _ in
            for path in ["/", "/docs", "/assets/app.js", "/assets/nothing.js"] {
                for method in [HTTPRequest.Method.post, .put, .delete] {
                    let response = try await client.send(method, path, json: "{}")
                    expectProblem(response, .methodNotAllowed, "method_not_allowed", "\(method) \(path)")
                    let allow = Set((response.headers[.allow] ?? "").split(separator: ",").map {
                        $0.trimmingCharacters(in: .whitespaces)
                    })
                    #expect(allow == ["GET", "HEAD"], "\(method) \(path): \(allow)")
                }
            }
            for path in ["/assets/nothing.js", "/assets/", "/assets/app.js/x", "/assets/%2e%2e%2fPackage.swift",
                         "/index.html", "/docs.html", "/Static/index.html"] {
                expectProblem(try await client.send(.get, path), .notFound, "not_found", path)
            }
        }
    }

    @Test func theOpenAPIDocumentNamesThePagesButListsNoneAsAnOperation() {
        let document = OpenAPI.document()
        for path in WebPages.paths {
            #expect(document["paths"]?[path] == nil, "\(path)")
        }
        let description = document["info"]?["description"]?.stringValue ?? ""
        #expect(description.contains("`/docs`") && description.contains("`/`"))
    }

    @Test func acceptEncodingIsReadAsRFC9110Says() {
        #expect(WebPages.acceptsGzip(["gzip"]))
        #expect(WebPages.acceptsGzip(["deflate", "GZIP;Q=0.1"]))
        #expect(WebPages.acceptsGzip(["*;q=0.5"]))
        #expect(!WebPages.acceptsGzip([]))
        #expect(!WebPages.acceptsGzip(["gzip;q=0", "*"]))
        #expect(!WebPages.acceptsGzip(["gzip; q=0.0"]))
        #expect(!WebPages.acceptsGzip(["br, identity"]))
        #expect(WebPages.matches(["W/\"a\""], "\"a\""))
        #expect(!WebPages.matches(["\"a-gzip\""], "\"a\""))
    }

    /// The bytes a gzip stream holds (zlib's inflate).
    static func gunzip(_ input: [UInt8]) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw TestFailure("inflateInit2 failed")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var input = input
        var status = Z_OK
        input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            while status == Z_OK {
                chunk.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress
                    stream.avail_out = uInt(target.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    output.append(contentsOf: target.prefix(target.count - Int(stream.avail_out)))
                }
            }
        }
        guard status == Z_STREAM_END else { throw TestFailure("not a whole gzip stream: \(status)") }
        return output
    }
}
