import Crypto
import Foundation
import NIOCore
import Primitives

/// The web app's and the API reference's files (`Web/Static`, copied into the target's resource bundle), read once
/// with their content type, strong ETag and gzip form, by the path they are served at.
///
/// Everything an answer needs is worked out here, when the server starts, so serving a file is a dictionary lookup.
struct WebFiles: Sendable {
    /// One file, ready to serve.
    struct File: Sendable {
        let contentType: String
        let body: ByteBuffer
        /// A strong validator of `body`: `"` + the first 128 bits of its SHA-256 in hex + `"`.
        let etag: String
        /// The gzip form and its own tag, where it is smaller by at least a tenth (small files are left alone).
        let gzip: (body: ByteBuffer, etag: String)?
    }

    /// By the path served: `index.html` at `/`, `docs.html` at `/docs`, `assets/NAME` at `/assets/NAME`.
    let files: [String: File]

    /// The files of the resource bundle, read once per process.
    static let bundled: WebFiles = {
        guard let folder = Bundle.module.url(forResource: "Static", withExtension: nil) else {
            fatalError("the web app's files (Web/Static) are missing from the resource bundle \(Bundle.module.bundlePath)")
        }
        do {
            return try WebFiles(folder: folder)
        } catch {
            fatalError("the web app's files in \(folder.path) cannot be read: \(error)")
        }
    }()

    /// The content type of each kind of file served; a file of another kind stops the server at start.
    static let contentTypes = [
        "html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
        "svg": "image/svg+xml",
    ]

    /// A file whose extension is not in `contentTypes`.
    struct UnknownKind: Error, CustomStringConvertible {
        let path: String
        var description: String { "no content type is known for \(path)" }
    }

    /// Reads `folder`: its `index.html` and `docs.html`, and every file of its `assets` folder.
    init(folder: URL) throws {
        var files: [String: File] = [:]
        files["/"] = try Self.file(folder.appendingPathComponent("index.html"))
        files["/docs"] = try Self.file(folder.appendingPathComponent("docs.html"))
        let assets = folder.appendingPathComponent("assets")
        for name in try FileManager.default.contentsOfDirectory(atPath: assets.path) {
            files["/assets/" + name] = try Self.file(assets.appendingPathComponent(name))
        }
        self.files = files
    }

    /// A file served with its validator and, where it helps, its gzip form.
    static func file(_ url: URL) throws -> File {
        guard let contentType = contentTypes[url.pathExtension] else {
            throw UnknownKind(path: url.path)
        }
        let bytes = [UInt8](try Data(contentsOf: url))
        let etag = tag(bytes)
        let compressed = Gzip.compress(bytes)
        let gzip = compressed.count * 10 <= bytes.count * 9
            ? (body: ByteBuffer(bytes: compressed), etag: "\"\(etag)-gzip\"") : nil
        return File(contentType: contentType, body: ByteBuffer(bytes: bytes), etag: "\"\(etag)\"", gzip: gzip)
    }

    /// The first 128 bits of the SHA-256 of `bytes`, in hex.
    static func tag(_ bytes: [UInt8]) -> String {
        Hex.encode(SHA256.hash(data: bytes).prefix(16))
    }
}
