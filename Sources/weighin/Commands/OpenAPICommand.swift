import ArgumentParser
import WeighinHTTP

/// `weighin openapi`: prints the OpenAPI document the server serves at `/openapi.json`, for client generators and
/// reviewers that have no server running.
struct OpenAPICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "openapi", abstract: "Print the OpenAPI 3.1 document of the API (what GET /openapi.json serves).")

    func run() {
        print(String(decoding: OpenAPI.render(), as: UTF8.self))
    }
}
