import CZlib

/// gzip (RFC 1952) through zlib's deflate at its best compression.
///
/// The web app's files are compressed once, when the server starts, so no request pays for it.
enum Gzip {
    /// The gzip form of `input`.
    static func compress(_ input: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        // A window of 2^15 bytes; + 16 asks for the gzip header and trailer around the deflate data.
        let started = deflateInit2_(
            &stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
            Int32(MemoryLayout<z_stream>.size))
        precondition(started == Z_OK, "zlib's deflateInit2 failed: \(started)")
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))))
        let finished = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = uInt(target.count)
                // deflateBound is enough for one call to finish the whole stream.
                return deflate(&stream, Z_FINISH)
            }
        }
        precondition(finished == Z_STREAM_END, "zlib's deflate did not finish: \(finished)")
        output.removeLast(Int(stream.avail_out))
        return output
    }
}
