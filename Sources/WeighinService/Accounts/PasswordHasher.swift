import Crypto
import Foundation
import HummingbirdBcrypt
import Synchronization

/// Hashes and verifies passwords with bcrypt on a bounded pool of threads of its own.
///
/// bcrypt is slow on purpose (about 0.25 s at cost 12), so it runs neither on the event loops nor on Swift's
/// cooperative threads but on a few threads of its own (see `BackgroundThreads`); when more than `queueLimit` hashes wait, callers
/// are refused at once (the HTTP layer answers 503) instead of starving every other request of CPU. Passwords are pre-hashed with SHA-256, so every
/// byte of a long password counts (bcrypt alone reads only the first 72 bytes).
public final class PasswordHasher: Sendable {
    /// The bcrypt cost (log2 of the rounds).
    public let cost: Int
    private let threads: BackgroundThreads
    private let capacity: Int
    private let inFlight = Mutex(0)
    /// A hash of a random password at `cost`: verifying against it makes an unknown email cost as much as a wrong
    /// password.
    private let decoy: String

    public init(cost: Int, threads: Int, queueLimit: Int) {
        self.cost = cost
        self.capacity = threads + queueLimit
        self.threads = BackgroundThreads(count: threads, name: "pw-hash")
        decoy = Bcrypt.hash(Self.prehash(UUID().uuidString), cost: UInt8(clamping: cost))
    }

    /// A new bcrypt hash of `password`.
    public func hash(_ password: String) async throws -> String {
        let cost = UInt8(clamping: cost)
        return try await run { Bcrypt.hash(Self.prehash(password), cost: cost) }
    }

    /// Whether `password` matches `hash`; with no hash (unknown account) it spends the same time and says no.
    public func verify(_ password: String, against hash: String?) async throws -> Bool {
        let decoy = decoy
        return try await run {
            let matches = Bcrypt.verify(Self.prehash(password), hash: hash ?? decoy)
            return hash != nil && matches
        }
    }

    /// What a refused caller is told.
    static let saturated = "Password hashing is saturated; try again shortly."

    /// Whether every hashing thread is busy and the queue is full: a log-in would be refused, so it is refused
    /// before it costs a database round trip.
    public var isSaturated: Bool {
        inFlight.withLock { $0 >= capacity }
    }

    private func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async throws -> T {
        let admitted = inFlight.withLock { count -> Bool in
            guard count < capacity else { return false }
            count += 1
            return true
        }
        guard admitted else {
            throw ServiceError.unavailable(retryAfter: 1, reason: Self.saturated)
        }
        defer { inFlight.withLock { $0 -= 1 } }
        return await threads.run(work)
    }

    /// SHA-256 of the UTF-8 bytes, base64: 44 ASCII characters, within bcrypt's 72 bytes and free of NULs.
    static func prehash(_ password: String) -> String {
        Data(SHA256.hash(data: Data(password.utf8))).base64EncodedString()
    }
}
