/// Reading the big-endian integers of binary formats: PostgreSQL's results and the API's cursors.
extension UnsafeRawBufferPointer {
    /// The big-endian integer of `T`'s size at `offset`; the caller has checked the length.
    ///
    /// Inlinable so that callers in other modules get it specialized to `T`.
    @inlinable public func bigEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int = 0) -> T {
        T(bigEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}
