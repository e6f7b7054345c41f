import Foundation
import Hummingbird
import Migrations
import NIOCore
import Postgres
import WeighinService

/// Health, readiness, metrics and the OpenAPI document.
struct OperationsRoutes {
    let services: WeighinServices
    let migrations: [Migration]
    let metrics: AppMetrics
    let openAPIDocument: ByteBuffer

    var routes: [Route] {
        [
            Route(.get, "/healthz", authenticated: false, health),
            Route(.get, "/readyz", authenticated: false, readiness),
            Route(.get, "/metrics", authenticated: false, prometheus),
            Route(.get, "/openapi.json", authenticated: false, openAPI),
        ]
    }

    /// 200 while the process runs.
    @Sendable func health(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        JSONResponse.make { writer in
            writer.beginObject()
            writer.key("status")
            writer.string("ok")
            writer.endObject()
        }
    }

    /// 200 when the database answers and its schema is at the newest migration, else 503.
    @Sendable func readiness(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let migrator = Migrator(migrations: migrations, configuration: services.database.pool.configuration.connection)
        let status: Migrator.Status
        do {
            status = try await migrator.status { try await services.database.pool.query($0) }
        } catch {
            throw Problem.unavailable(retryAfter: 1, detail: "The database does not answer.")
        }
        guard status.isCurrent else {
            throw Problem.unavailable(
                retryAfter: 5, detail: "The database schema is not at the newest migration: run `weighin migrate`.")
        }
        return JSONResponse.make { writer in
            writer.beginObject()
            writer.key("status")
            writer.string("ready")
            writer.endObject()
        }
    }

    /// Prometheus text format.
    @Sendable func prometheus(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let text = metrics.render(
            pool: services.database.pool.statistics, poolSize: services.database.pool.configuration.size,
            tokenCache: services.tokens.cacheStatistics)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: text)))
    }

    /// The OpenAPI 3.1 document kept in the repository.
    @Sendable func openAPI(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: openAPIDocument))
    }

    /// The document, from the target's resources.
    static func loadDocument() throws -> ByteBuffer {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return ByteBuffer(bytes: [UInt8](try Data(contentsOf: url)))
    }
}
