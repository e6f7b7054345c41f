import Foundation
import HTTPTypes
import Testing

/// Decoding (types, impossible dates, unknown units) and the service's rules (ranges, lengths) fail together: one
/// 422 names every failing field, whichever layer found it.
@Suite("HTTP: one 422 names every failing field")
struct OneValidationAnswerTests {
    @Test func anEntryWithATypeErrorAnImpossibleDateAndARuleBrokenGetsOneAnswer() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let note = String(repeating: "n", count: 501)
            let response = try await client.send(
                .post, "/v1/entries?unit=stone", token: user.token,
                json: #"{"weight": "80", "recorded_on": "2026-02-30", "note": "\#(note)"}"#,
                headers: [HTTPField.Name("Idempotency-Key")!: String(repeating: "k", count: 256)])
            let problem = expectValidation(response, field: "weight")
            #expect(Set(errorFields(problem)) == ["unit", "weight", "recorded_on", "note", "Idempotency-Key"], "\(response.text)")
            let patch = try await client.send(
                .patch, "/v1/entries/00000000-0000-0000-0000-000000000000", token: user.token,
                json: #"{"weight": 1001, "unit": "kg", "recorded_on": "1899-12-31", "wieght": 1}"#)
            #expect(Set(errorFields(expectValidation(patch, field: "weight"))) == ["weight", "recorded_on", "wieght"])
        }
    }

    @Test func aRegistrationWithAWrongTypeAndAnEmptyNameGetsOneAnswer() async throws {
        try await TestApp.run { client, _ in
            let response = try await client.send(
                .post, "/v1/users", json: #"{"email": 5, "name": "  ", "password": "short", "weight_unit": "stone"}"#)
            let problem = expectValidation(response, field: "email")
            #expect(Set(errorFields(problem)) == ["email", "name", "password", "weight_unit"], "\(response.text)")
        }
    }

    @Test func aListingWithABadUnitAndAForgedCursorGetsOneAnswer() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let response = try await client.send(
                .get, "/v1/entries?unit=stone&cursor=" + String(repeating: "A", count: 60), token: user.token)
            #expect(Set(errorFields(expectValidation(response, field: "cursor"))) == ["unit", "cursor"])
        }
    }

    @Test func anImportRowWithATypeErrorAndABrokenRuleNamesBoth() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let response = try await client.importCSV(user.token, "recorded_on,weight,unit\r\n2026-02-30,0,stone\r\n")
            let problem = expectValidation(response, field: "recorded_on")
            #expect(problem["row"]?.intValue == 1)
            #expect(Set(errorFields(problem)) == ["recorded_on", "weight", "unit"], "\(response.text)")
        }
    }
}
