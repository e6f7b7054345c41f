#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// State that only one thread may touch, with a check on every access in debug builds.
///
/// A connection's libpq handle and pipeline state live on its own thread without locks; this catches, in tests,
/// any code path that reaches them from elsewhere. Release builds read and write the value directly.
struct ThreadConfined<Value> {
    private var storage: Value
    #if DEBUG
    private var owner: pthread_t?
    #endif

    init(_ value: Value) {
        storage = value
    }

    /// Makes the calling thread the only one allowed from now on.
    mutating func bindToCurrentThread() {
        #if DEBUG
        owner = pthread_self()
        #endif
    }

    var value: Value {
        get {
            checkThread()
            return storage
        }
        _modify {
            checkThread()
            yield &storage
        }
    }

    @inline(__always)
    private func checkThread() {
        #if DEBUG
        guard let owner else { preconditionFailure("thread-confined state used before its thread took it") }
        precondition(pthread_equal(owner, pthread_self()) != 0, "thread-confined state used off its thread")
        #endif
    }
}
