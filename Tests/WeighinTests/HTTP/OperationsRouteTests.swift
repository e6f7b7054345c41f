import Foundation
import HummingbirdTesting
import Testing
import WireFormats

@Suite("HTTP: health, readiness, metrics and the OpenAPI document")
struct OperationsRouteTests {
    @Test func healthAndReadiness() async throws {
        let (app, _) = try await TestApp.make()
        try await app.test(.router) { client in
            let health = try await client.send(.get, "/healthz")
            #expect(health.status == .ok)
            #expect(health.json["status"]?.stringValue == "ok")
            #expect(health.headers[.init("X-Request-ID")!] != nil)
            let ready = try await client.send(.get, "/readyz")
            #expect(ready.status == .ok)
        }
    }
}
