import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import WireFormats

@testable import WeighinService

/// `/v1/webhooks`: creation, listing, deletion and limits, and deliveries to a receiver on 127.0.0.1 (tests run
/// without production mode, which would refuse that address).
@Suite("HTTP: webhooks")
struct WebhookRouteTests {
    func create(_ client: any TestClientProtocol, _ token: String, _ body: String) async throws -> TestResponse {
        try await client.send(.post, "/v1/webhooks", token: token, json: body)
    }

    @Test func theSignatureIsTheStandardWebhooksExample() throws {
        // The specification's published example (https://www.standardwebhooks.com, "Verifying webhooks").
        let secret = try #require(WebhookSecret(text: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let signature = secret.signature(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8))
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        let fresh = WebhookSecret.random()
        #expect(fresh.text.hasPrefix("whsec_") && WebhookSecret(text: fresh.text) == fresh && fresh.key.count == 32)
    }

    @Test func publicAddressesAreTold() {
        for address: [UInt8] in [[8, 8, 8, 8], [1, 1, 1, 1], [93, 184, 216, 34],
                                 [0x26, 0x06, 0x47, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x68, 0x12, 0x1a, 0x2b]] {
            #expect(PublicAddress.isPublic(address), "\(address)")
        }
        let mapped: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 10, 0, 0, 1]
        for address: [UInt8] in [[127, 0, 0, 1], [10, 1, 2, 3], [172, 16, 0, 1], [172, 31, 255, 255], [192, 168, 1, 1],
                                 [169, 254, 169, 254], [100, 64, 0, 1], [0, 0, 0, 0], [224, 0, 0, 1], [255, 255, 255, 255],
                                 [192, 0, 2, 1], [198, 18, 0, 1], [203, 0, 113, 9],
                                 [UInt8](repeating: 0, count: 15) + [1], [UInt8](repeating: 0, count: 16),
                                 [0xFE, 0x80] + [UInt8](repeating: 0, count: 14), [0xFD, 0] + [UInt8](repeating: 0, count: 14),
                                 [0xFF, 0x02] + [UInt8](repeating: 0, count: 14), mapped,
                                 [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 12), [1, 2, 3]] {
            #expect(!PublicAddress.isPublic(address), "\(address)")
        }
    }

    @Test func resolvingLoopbackNamesIsNotPublic() async {
        #expect(await !PublicAddress.resolvesToPublicOnly("localhost"))
        #expect(await !PublicAddress.resolvesToPublicOnly("127.0.0.1"))
        #expect(await !PublicAddress.resolvesToPublicOnly("[::1]"))
        #expect(await !PublicAddress.resolvesToPublicOnly("no-such-host.invalid"))
    }

    @Test func createListDeleteAndTheirRules() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let created = try await create(
                client, user.token, #"{"url": "http://127.0.0.1:9/hook", "events": ["entry.deleted"], "description": "scale"}"#)
            #expect(created.status == .created, "\(created.text)")
            #expect(created.json.keys == ["id", "url", "events", "description", "secret", "created_at", "disabled_at"])
            #expect(created.json["secret"]?.stringValue?.hasPrefix("whsec_") == true)
            #expect(created.json["events"] == .array([.string("entry.deleted")]) && created.json["disabled_at"] == .null)
            #expect(created.headers[.cacheControl] == "no-store")
            let id = try #require(created.json["id"]?.stringValue)
            let all = try await create(client, user.token, #"{"url": "https://example.com/h"}"#)
            #expect(all.json["events"]?.arrayValue?.count == 3 && all.json["description"] == .null)

            let list = try await client.send(.get, "/v1/webhooks", token: user.token)
            let listed = try #require(list.json["webhooks"]?.arrayValue)
            #expect(listed.count == 2 && listed.allSatisfy { $0["secret"] == nil })
            #expect(listed[0] == created.json.removing(["secret"]))

            // Another user sees none and deletes none.
            let other = try await client.newUser()
            #expect(try await client.send(.get, "/v1/webhooks", token: other.token).json["webhooks"] == .array([]))
            expectProblem(try await client.send(.delete, "/v1/webhooks/\(id)", token: other.token), .notFound)
            expectProblem(try await client.send(.get, "/v1/webhooks/\(id)/deliveries", token: other.token), .notFound)
            #expect(try await client.send(.get, "/v1/webhooks/\(id)/deliveries", token: user.token).json["deliveries"] == .array([]))
            #expect(try await client.send(.delete, "/v1/webhooks/\(id)", token: user.token).status == .noContent)
            expectProblem(try await client.send(.delete, "/v1/webhooks/\(id)", token: user.token), .notFound)
            expectProblem(try await client.send(.delete, "/v1/webhooks/not-a-uuid", token: user.token), .notFound)

            // Bad input: every field named, nothing stored.
            for (body, field) in [
                (#"{}"#, "url"), (#"{"url": "ftp://example.com/"}"#, "url"), (#"{"url": "/relative"}"#, "url"),
                (#"{"url": "http://"}"#, "url"), (#"{"url": "http://exa mple.com/"}"#, "url"),
                (#"{"url": "http://e.com/\#(String(repeating: "a", count: 2000))"}"#, "url"),
                (#"{"url": 7}"#, "url"), (#"{"url": "http://e.com", "events": []}"#, "events"),
                (#"{"url": "http://e.com", "events": ["entry.eaten"]}"#, "events"),
                (#"{"url": "http://e.com", "events": "entry.created"}"#, "events"),
                (#"{"url": "http://e.com", "events": [1]}"#, "events"),
                (#"{"url": "http://e.com", "description": "\#(String(repeating: "d", count: 501))"}"#, "description"),
                (#"{"url": "http://e.com", "secret": "whsec_x"}"#, "secret"),
            ] {
                expectValidation(try await create(client, user.token, body), field: field, body)
            }
            #expect(try await client.send(.get, "/v1/webhooks", token: user.token).json["webhooks"]?.arrayValue?.count == 1)

            // At most 10 per user.
            for n in 1..<10 {
                #expect(try await create(client, user.token, #"{"url": "http://e.com/\#(n)"}"#).status == .created)
            }
            expectProblem(try await create(client, user.token, #"{"url": "http://e.com/11"}"#), .conflict, "limit_reached")
            expectUnauthorized(try await client.send(.get, "/v1/webhooks"))
        }
    }

    @Test func everyKindOfChangeIsDeliveredSignedAndInOrder() async throws {
        let receiver = WebhookReceiver()
        try await receiver.run { url in
            try await TestApp.run { client, databaseURL in
                let user = try await client.newUser(weightUnit: "lb")
                let hook = try await create(client, user.token, #"{"url": "\#(url)"}"#)
                let secret = try #require(WebhookSecret(text: hook.json["secret"]!.stringValue!))
                let hookID = try #require(hook.json["id"]?.stringValue)
                let entry = try await client.createEntry(user.token, weight: "80.25", unit: "kg", recordedOn: "2026-07-01")
                let id = try #require(entry["id"]?.stringValue)
                let patched = try await client.send(.patch, "/v1/entries/\(id)", token: user.token, json: #"{"note": "after run"}"#)
                #expect(patched.status == .ok)
                #expect(try await client.send(.delete, "/v1/entries/\(id)", token: user.token).status == .noContent)
                let put = try await client.send(
                    .put, "/v1/entries/by-client-id/w-1", token: user.token,
                    json: #"{"weight": 170, "unit": "lb", "recorded_on": "2026-07-02", "client_version": 1}"#)
                #expect(put.status == .created)
                #expect(try await client.importCSV(user.token, "recorded_on,weight,unit\n2026-07-03,79,kg\n2026-07-04,78,kg\n").status == .ok)
                // A change that rolls back (a constraint refuses it) sends nothing.
                expectValidation(
                    try await client.send(.patch, "/v1/entries/\(put.json["id"]!.stringValue!)", token: user.token,
                        json: #"{"recorded_on": "2026-07-05", "measured_at": "2026-07-01T08:00:00Z"}"#), field: "recorded_on")

                let posts = try await receiver.waitFor(6)
                try await Task.sleep(for: .milliseconds(1500))
                #expect(receiver.received.count == 6, "nothing more, nothing twice")
                let bodies = try posts.map { post -> JSONValue in
                    let id = try #require(post.headers["webhook-id"])
                    let timestamp = try #require(post.headers["webhook-timestamp"].flatMap { Int($0) })
                    #expect(abs(Double(timestamp) - Date().timeIntervalSince1970) < 60)
                    #expect(post.headers["webhook-signature"] == secret.signature(id: id, timestamp: timestamp, body: post.body))
                    #expect(post.headers["content-type"] == "application/json")
                    let body = try JSONParser.parse(post.body)
                    #expect(body["id"]?.stringValue == id && body.keys == ["id", "type", "created_at", "data"])
                    return body
                }
                #expect(bodies.map { $0["type"]?.stringValue } == [
                    "entry.created", "entry.updated", "entry.deleted", "entry.created", "entry.created", "entry.created",
                ])
                // The entry as it was then, in its entered unit (the user's display unit is lb).
                #expect(bodies[0]["data"]?["weight"]?.decimal == dec("80.25") && bodies[0]["data"]?["unit"]?.stringValue == "kg")
                #expect(bodies[0]["data"]?["note"] == .null && bodies[1]["data"]?["note"]?.stringValue == "after run")
                #expect(bodies[2]["data"] == .object(["id": .string(id)]))
                #expect(bodies[3]["data"]?["client_record_id"]?.stringValue == "w-1" && bodies[3]["data"]?["unit"]?.stringValue == "lb")
                #expect(Set(bodies.map { $0["id"]?.stringValue }).count == 6, "an event id each")

                let log = try await client.send(.get, "/v1/webhooks/\(hookID)/deliveries?limit=100", token: user.token)
                let attempts = try #require(log.json["deliveries"]?.arrayValue)
                #expect(attempts.count == 6 && attempts.allSatisfy { $0["status_code"]?.intValue == 204 && $0["error"] == .null })
                #expect(attempts.first?["event_id"]?.stringValue == bodies.last?["id"]?.stringValue, "newest first")
                #expect(try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM webhook_outbox") == 0)
                expectValidation(try await client.send(.get, "/v1/webhooks/\(hookID)/deliveries?limit=0", token: user.token), field: "limit")
            }
        }
    }

    @Test func failuresAreRetriedInOrderAndADayOfThemDisablesTheWebhook() async throws {
        let receiver = WebhookReceiver()
        receiver.answer(.answer(500))
        try await receiver.run { url in
            try await TestApp.run { client, databaseURL in
                let user = try await client.newUser()
                let hook = try await create(client, user.token, #"{"url": "\#(url)", "events": ["entry.created"]}"#)
                let hookID = try #require(hook.json["id"]?.stringValue)
                try await client.createEntry(user.token, weight: "80", recordedOn: "2026-07-01")
                try await client.createEntry(user.token, weight: "81", recordedOn: "2026-07-02")
                // The first fails; the second waits behind it (in order per webhook).
                let first = try await receiver.waitFor(1)
                try await Task.sleep(for: .seconds(1))
                #expect(receiver.received.count == 1)
                // Retried within 10 s; now it is taken, then the second.
                receiver.answer(.answer(200))
                let posts = try await receiver.waitFor(3, timeout: .seconds(15))
                #expect(posts[1].headers["webhook-id"] == first[0].headers["webhook-id"], "the same event again")
                #expect(posts[2].headers["webhook-id"] != first[0].headers["webhook-id"])
                // The worker logs an attempt once its answer is in: the receiver may have the third post before the
                // log has its row.
                var attempts: [JSONValue] = []
                let logged = ContinuousClock.now + .seconds(10)
                while attempts.count < 3, ContinuousClock.now < logged {
                    attempts = try await client.send(.get, "/v1/webhooks/\(hookID)/deliveries", token: user.token)
                        .json["deliveries"]?.arrayValue ?? []
                    if attempts.count < 3 { try await Task.sleep(for: .milliseconds(50)) }
                }
                try #require(attempts.count == 3, "three attempts logged: \(attempts)")
                #expect(attempts.map { $0["status_code"]?.intValue } == [200, 200, 500])
                #expect(attempts.last?["error"]?.stringValue?.contains("500") == true && attempts.last?["attempt"]?.intValue == 1)
                #expect(attempts[1]["attempt"]?.intValue == 2)

                // A day of failures: the next failed attempt disables the webhook and drops what waits.
                receiver.answer(.answer(503))
                try await client.createEntry(user.token, weight: "82", recordedOn: "2026-07-03")
                _ = try await receiver.waitFor(4)
                try await TestDatabase.query(
                    databaseURL, "UPDATE webhook_outbox SET first_attempted_at = now() - interval '25 hours', next_attempt_at = now()")
                try await client.createEntry(user.token, weight: "83", recordedOn: "2026-07-04")
                let end = ContinuousClock.now + .seconds(20)
                var disabled = JSONValue.null
                while ContinuousClock.now < end, disabled == .null {
                    try await Task.sleep(for: .milliseconds(200))
                    disabled = try await client.send(.get, "/v1/webhooks", token: user.token).json["webhooks"]?[0]?["disabled_at"] ?? .null
                }
                #expect(disabled != .null)
                #expect(try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM webhook_outbox") == 0)
                // Disabled: no more events.
                try await client.createEntry(user.token, weight: "84", recordedOn: "2026-07-05")
                #expect(try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM webhook_outbox") == 0)
            }
        }
    }

    @Test func deletingTheAccountTakesItsWebhooksAndSendsNothing() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            #expect(try await create(client, user.token, #"{"url": "http://127.0.0.1:9/none"}"#).status == .created)
            try await client.createEntry(user.token, weight: "80", recordedOn: "2026-07-01")
            #expect(try await client.send(.delete, "/v1/me", token: user.token).status == .noContent)
            let id = UUID(uuidString: user.id)!
            for table in ["webhooks", "webhook_outbox", "webhook_deliveries"] {
                #expect(try await TestDatabase.count(
                    databaseURL, "SELECT count(*) AS n FROM \(unsafeSQL: table) WHERE user_id = \(id)") == 0, "\(table)")
            }
        }
    }
}

extension JSONValue {
    subscript(index: Int) -> JSONValue? {
        guard let items = arrayValue, items.indices.contains(index) else { return nil }
        return items[index]
    }
}
