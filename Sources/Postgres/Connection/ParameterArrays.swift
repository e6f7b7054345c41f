/// Lays out bound values as the C arrays libpq wants (each value NUL-terminated in one allocation).
func withParameters<R>(
    _ binds: [PostgresBind],
    _ body: (UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> R
) -> R {
    if binds.isEmpty { return body(nil, nil, nil) }
    let total = binds.reduce(0) { $0 + ($1.bytes?.count ?? 0) + 1 }
    let storage = UnsafeMutablePointer<CChar>.allocate(capacity: total)
    defer { storage.deallocate() }
    var values: [UnsafePointer<CChar>?] = []
    var lengths: [Int32] = []
    var formats: [Int32] = []
    values.reserveCapacity(binds.count)
    lengths.reserveCapacity(binds.count)
    formats.reserveCapacity(binds.count)
    var offset = 0
    for bind in binds {
        formats.append(bind.isBinary ? 1 : 0)
        guard let bytes = bind.bytes else {
            values.append(nil)
            lengths.append(0)
            continue
        }
        let start = storage + offset
        bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                if let base = chars.baseAddress { start.update(from: base, count: chars.count) }
            }
        }
        start[bytes.count] = 0
        values.append(UnsafePointer(start))
        lengths.append(Int32(bytes.count))
        offset += bytes.count + 1
    }
    return body(values, lengths, formats)
}
