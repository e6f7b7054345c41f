import Foundation
import Testing
@testable import WeighinHTTP
import WeighinService
import WireFormats

@testable import PrivateCluster

/// The OpenAPI document states the limits, codes and routes the code enforces, in a shape client generators read.
@Suite("OpenAPI: the document says what the code enforces")
struct OpenAPIDocumentTests {
    let document = OpenAPI.document()

    func component(_ kind: String, _ name: String) -> JSONValue? {
        document["components"]?[kind]?[name]
    }

    func property(_ schema: String, _ name: String) -> JSONValue? {
        component("schemas", schema)?["properties"]?[name]
    }

    @Test func bodyLimitsAreTheRulesConstants() throws {
        for schema in ["EntryCreate", "EntryUpdate", "ImportEntry"] {
            #expect(property(schema, "note")?["maxLength"]?.intValue == EntryRules.noteLength, "\(schema)")
            #expect(property(schema, "weight")?["maximum"]?.decimal == WeightUnit.lb.maximum, "\(schema)")
            #expect(property(schema, "weight")?["exclusiveMinimum"]?.intValue == 0, "\(schema)")
            let kilograms = component("schemas", schema)?["then"]?["properties"]?["weight"]?["maximum"]
            #expect(kilograms?.decimal == WeightUnit.kg.maximum, "\(schema)")
        }
        #expect(WeightUnit.allCases.map(\.maximum).max() == WeightUnit.lb.maximum)
        for schema in ["UserCreate", "UserUpdate"] {
            #expect(property(schema, "name")?["minLength"]?.intValue == AccountRules.nameLength.lowerBound)
            #expect(property(schema, "name")?["maxLength"]?.intValue == AccountRules.nameLength.upperBound)
            #expect(property(schema, "email")?["maxLength"]?.intValue == AccountRules.emailLength)
        }
        for (schema, member) in [("UserCreate", "password"), ("PasswordChange", "new_password")] {
            #expect(property(schema, member)?["minLength"]?.intValue == AccountRules.passwordLength.lowerBound)
            #expect(property(schema, member)?["maxLength"]?.intValue == AccountRules.passwordLength.upperBound)
        }
        let importBody = document["paths"]?["/v1/entries/import"]?["post"]?["requestBody"]?["content"]
        #expect(importBody?["application/json"]?["schema"]?["maxItems"]?.intValue == ImportBatch.limit)
        #expect(importBody?["text/csv"] != nil)
        let info = try #require(document["info"]?["description"]?.stringValue)
        #expect(info.contains("Bodies over \(Limits.jsonBody >> 20) MiB answer 413"))
        #expect(info.contains("(import: \(Limits.importBody >> 20) MiB)"))
    }

    /// `BodyReader` answers 422 to any string member holding NUL (libpq would cut it short), so every free-text
    /// member of a request body says so with a pattern that excludes NUL: a schema-valid body is never refused for
    /// it (Schemathesis's positive data checks hold the document to that).
    @Test func everyFreeTextMemberOfARequestBodyExcludesNUL() throws {
        let bodies = ["UserCreate", "UserUpdate", "Credentials", "PasswordChange", "EntryCreate", "EntryUpdate",
                      "ImportEntry", "GoalSet"]
        var checked = 0
        for schema in bodies {
            let properties = try #require(component("schemas", schema)?["properties"]?.objectValue, "\(schema)")
            for (name, member) in properties.members {
                let types = member["type"].map { $0.arrayValue ?? [$0] }?.compactMap(\.stringValue) ?? []
                guard types.contains("string"), member["enum"] == nil, member["format"] == nil else { continue }
                let pattern = try #require(member["pattern"]?.stringValue, "\(schema).\(name) states no pattern")
                let regex = try NSRegularExpression(pattern: pattern)
                func matches(_ text: String) -> Bool {
                    regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
                }
                #expect(!matches("ab\u{0}cd@example.com"), "\(schema).\(name) allows NUL")
                checked += 1
            }
        }
        #expect(checked >= 9, "the free-text members: names, emails, passwords, notes, sources")
    }

    @Test func parameterLimitsAreTheQueryRules() {
        let limit = component("parameters", "Limit")?["schema"]
        #expect(limit?["minimum"]?.intValue == EntryRules.pageSizes.lowerBound)
        #expect(limit?["maximum"]?.intValue == EntryRules.pageSizes.upperBound)
        #expect(limit?["default"]?.intValue == EntryRules.defaultPageSize)
        let window = component("parameters", "Window")?["schema"]
        #expect(window?["minimum"]?.intValue == StatisticsService.windows.lowerBound)
        #expect(window?["maximum"]?.intValue == StatisticsService.windows.upperBound)
        #expect(window?["default"]?.intValue == StatisticsService.defaultWindow)
        #expect(property("Trend", "window")?["maximum"]?.intValue == StatisticsService.windows.upperBound)
        let key = component("parameters", "IdempotencyKey")?["schema"]
        #expect(key?["minLength"]?.intValue == IdempotencyKey.length.lowerBound)
        #expect(key?["maxLength"]?.intValue == IdempotencyKey.length.upperBound)
        let units = component("parameters", "Unit")?["schema"]?["enum"]?.arrayValue?.compactMap(\.stringValue)
        #expect(units == WeightUnit.spellings.map(\.key))
        let formats = component("parameters", "Format")?["schema"]?["enum"]?.arrayValue?.compactMap(\.stringValue)
        #expect(formats == ImportExportRoutes.exportFormats)
    }

    @Test func theProblemCodesAreProblemCodeAllCases() throws {
        let all = ProblemCode.allCases.map(\.rawValue)
        #expect(property("Problem", "code")?["enum"]?.arrayValue?.compactMap(\.stringValue) == all)
        // Every code but 405's (answered for any route, documented on none) belongs to a documented error answer.
        var documented: Set<String> = [ProblemCode.methodNotAllowed.rawValue]
        for problem in OpenAPI.ProblemResponse.allCases {
            let schema = try #require(component("schemas", problem.schemaName), "\(problem)")
            let code = try #require(schema["properties"]?["code"])
            let codes = code["const"].map { [$0] } ?? code["enum"]?.arrayValue ?? []
            #expect(codes.compactMap(\.stringValue) == problem.kind.codes.map(\.rawValue), "\(problem)")
            documented.formUnion(codes.compactMap(\.stringValue))
            #expect(schema["properties"]?["status"]?["const"]?.intValue == problem.kind.status, "\(problem)")
            let required = Set(schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            let current: Set<String> = problem == .versionConflict ? ["current"] : []
            #expect(required == Set(["type", "title", "status", "detail", "code", "request_id"]).union(current), "\(problem)")
        }
        #expect(documented == Set(all))
    }

    @Test func noSchemaNarrowsAnotherWithAllOf() {
        // openapi-python-client cannot merge `allOf` narrowings of `status` and dropped every error answer for them.
        func walk(_ value: JSONValue, _ path: String) {
            switch value {
            case .object(let object):
                #expect(object["allOf"] == nil, "allOf at \(path)")
                for member in object.members { walk(member.value, path + "/" + member.key) }
            case .array(let items):
                for (index, item) in items.enumerated() { walk(item, "\(path)[\(index)]") }
            default:
                break
            }
        }
        walk(document, "")
    }

    @Test func everyRouteHasItsOperation() throws {
        var ids = Set<String>()
        for route in RouteTable.all.routes {
            let call = "\(route.method.rawValue) \(route.path)"
            let operation = try #require(document["paths"]?[route.path]?[route.method.rawValue.lowercased()], "\(call)")
            let id = try #require(operation["operationId"]?.stringValue, "\(call)")
            #expect(id == route.operation.id)
            #expect(ids.insert(id).inserted, "\(id) twice")
            #expect(operation["security"]?.arrayValue?.isEmpty == !route.authenticated, "\(call)")
            #expect((operation["responses"]?["401"] != nil) == (route.authenticated || id == "createToken"), "\(call)")
            #expect(operation["responses"]?["500"] != nil, "\(call)")
        }
        // The fault tests' Schemathesis configuration (schemathesis.toml) names operations by these ids.
        let named: Set = ["createEntry", "updateEntry", "importEntries", "listEntries", "getStats", "getTrend", "setGoal"]
        #expect(ids.isSuperset(of: named))
        let paths = try #require(document["paths"]?.objectValue)
        #expect(paths.members.reduce(0) { $0 + ($1.value.objectValue?.count ?? 0) } == RouteTable.all.routes.count)
    }

    @Test func everyReferenceResolves() {
        let ids = Set(RouteTable.all.routes.map(\.operation.id))
        func walk(_ value: JSONValue, _ path: String) {
            switch value {
            case .object(let object):
                if let ref = object["$ref"]?.stringValue {
                    let parts = ref.split(separator: "/").map(String.init)
                    #expect(parts.count == 4 && parts[0] == "#" && parts[1] == "components", "\(ref) at \(path)")
                    if parts.count == 4 { #expect(component(parts[2], parts[3]) != nil, "\(ref) at \(path)") }
                }
                if path.hasSuffix("/links"), case .object(let links) = value {
                    for link in links.members {
                        #expect(link.value["operationId"]?.stringValue.map(ids.contains) == true, "\(path)/\(link.key)")
                    }
                }
                for member in object.members { walk(member.value, path + "/" + member.key) }
            case .array(let items):
                for (index, item) in items.enumerated() { walk(item, "\(path)[\(index)]") }
            default:
                break
            }
        }
        walk(document, "")
    }

    @Test func theCommandPrintsTheServedDocument() async throws {
        let executable = try #require(MigrateCommandTests.executable, "the weighin executable is built with the tests")
        let output = try await ProcessRunner.run(executable.path, ["openapi"])
        #expect(output.status == 0)
        let printed = try JSONParser.parse(Array(output.text.utf8))
        #expect(printed == document)
        #expect(output.text == String(decoding: OpenAPI.render(), as: UTF8.self) + "\n")
    }
}
