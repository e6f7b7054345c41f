import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization
import WeighinService

/// Delivers webhook events from the outbox for the life of the server: claims due events (any number of instances
/// may run this), posts each to its receiver with a 10 s limit, and records the answer (delivered, or retried later
/// with growing delays; 24 hours of failures disable the webhook).
///
/// On a graceful shutdown it claims nothing more and lets the attempts in flight finish (each bounded by 10 s);
/// a claim it could not record lapses and another instance (or this one, restarted) delivers the event again.
/// Database outages are waited out: each round's failure is logged and the loop goes on.
struct WebhookDeliveryService: Service {
    let outbox: WebhookOutbox
    let publicAddressesOnly: Bool
    let logger: Logger
    /// Deliveries at once.
    var concurrency = 8
    /// How often the outbox is looked at when there was nothing to do.
    var pollInterval: Duration = .seconds(1)

    func run() async throws {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(10), read: .seconds(10)))
        configuration.decompression = .disabled
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let stopping = Stopping()
        await withGracefulShutdownHandler {
            await deliverUntilStopped(client, stopping)
        } onGracefulShutdown: {
            stopping.stop()
        }
        try? await client.shutdown()
    }

    private func deliverUntilStopped(_ client: HTTPClient, _ stopping: Stopping) async {
        while !stopping.isStopped && !Task.isCancelled {
            let claimed: [PendingDelivery]
            do {
                claimed = try await outbox.claim(limit: concurrency)
            } catch {
                logger.warning("claiming webhook deliveries failed", metadata: ["error": "\(error)"])
                await stopping.sleep(for: pollInterval)
                continue
            }
            if claimed.isEmpty {
                await stopping.sleep(for: pollInterval)
                continue
            }
            // Deliveries in flight finish even when a shutdown begins meanwhile: each is bounded by its timeout.
            await withDiscardingTaskGroup { group in
                for delivery in claimed {
                    group.addTask { await deliver(delivery, client) }
                }
            }
        }
    }

    /// One attempt, and its outcome recorded.
    private func deliver(_ delivery: PendingDelivery, _ client: HTTPClient) async {
        let started = ContinuousClock.now
        let (status, failure) = await attempt(delivery, client)
        let duration = ContinuousClock.now - started
        let metadata: Logger.Metadata = [
            "webhook_id": "\(delivery.webhookID)", "event_id": "\(delivery.eventID)", "attempt": "\(delivery.attempt)",
            "status": "\(status.map(String.init) ?? "none")",
        ]
        do {
            if let failure {
                let disabled = try await outbox.failed(delivery, statusCode: status, error: failure, duration: duration)
                logger.info("webhook delivery failed", metadata: metadata.merging(["error": "\(failure)"]) { $1 })
                if disabled { logger.warning("webhook disabled after a day of failed deliveries", metadata: metadata) }
            } else {
                try await outbox.delivered(delivery, statusCode: status ?? 0, duration: duration)
                logger.debug("webhook delivered", metadata: metadata)
            }
        } catch {
            // The claim lapses and the event is delivered again: at least once.
            logger.warning(
                "recording a webhook delivery failed", metadata: metadata.merging(["error": "\(error)"]) { $1 })
        }
    }

    /// Posts the event; the receiver's status, and why it failed (nil for a 2xx answer).
    private func attempt(_ delivery: PendingDelivery, _ client: HTTPClient) async -> (Int?, String?) {
        if publicAddressesOnly {
            // Again at each delivery: what a name resolves to can change after the webhook was created.
            guard let host = URLComponents(string: delivery.url)?.host,
                await PublicAddress.resolvesToPublicOnly(host)
            else { return (nil, "the URL's host does not resolve to public addresses only") }
        }
        let message = WebhookMessage(delivery, timestamp: Int(Date().timeIntervalSince1970))
        var post = HTTPClientRequest(url: delivery.url)
        post.method = .POST
        for (name, value) in message.headers { post.headers.add(name: name, value: value) }
        post.body = .bytes(ByteBuffer(bytes: message.body))
        let request = post
        let timeout = WebhookOutbox.attemptTimeout
        do {
            return try await withThrowingTaskGroup(of: (Int?, String?).self) { group in
                group.addTask {
                    let response = try await client.execute(request, timeout: .seconds(Int64(timeout.wholeSeconds)))
                    // The answer's body is read (up to 64 KiB) and dropped: the status says it all.
                    _ = try? await response.body.collect(upTo: 65_536)
                    let code = Int(response.status.code)
                    return (code, (200..<300).contains(code) ? nil : "the receiver answered \(code)")
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return (nil, "no answer within \(timeout.wholeSeconds) s")
                }
                let first = try await group.next()!
                group.cancelAll()
                return first
            }
        } catch {
            return (nil, Self.describe(error))
        }
    }

    /// A failure in words for the delivery log (no secret is part of any of these).
    private static func describe(_ error: any Error) -> String {
        switch error {
        case let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout:
            return "no answer within \(WebhookOutbox.attemptTimeout.wholeSeconds) s"
        case let error as HTTPClientError where error == .connectTimeout:
            return "could not connect within 10 s"
        case let error as HTTPClientError where error == .remoteConnectionClosed:
            return "the receiver closed the connection"
        default:
            return "could not deliver: \(String(describing: error).prefix(200))"
        }
    }
}

/// The flag a graceful shutdown sets, and a sleep it cuts short.
private final class Stopping: Sendable {
    private let stopped = Mutex(false)

    var isStopped: Bool { stopped.withLock { $0 } }

    func stop() {
        stopped.withLock { $0 = true }
    }

    /// Sleeps for `duration`, or until `stop` (looked at every 100 ms).
    func sleep(for duration: Duration) async {
        let end = ContinuousClock.now + duration
        while !isStopped, ContinuousClock.now < end {
            try? await Task.sleep(for: min(.milliseconds(100), end - ContinuousClock.now))
        }
    }
}
