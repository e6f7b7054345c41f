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

    static let routes: [Route] = [
        Route(
            .get, "/healthz", authenticated: false, id: "getHealth", summary: "Liveness", tag: .operations,
            description: "200 while the process runs.", answers: [.json("Alive.", .health)], usesDatabase: false
        ) { $0.operations.health },
        Route(
            .get, "/readyz", authenticated: false, operational: true, id: "getReadiness", summary: "Readiness",
            tag: .operations,
            description: """
                200 when the database answers and its schema is at the newest migration, else 503. With an ops \
                listener (`--ops-port`, required in production) it is served there only.
                """,
            answers: [.json("Ready.", .ready)]
        ) { $0.operations.readiness },
        Route(
            .get, "/metrics", authenticated: false, operational: true, id: "getMetrics", summary: "Prometheus metrics",
            tag: .operations,
            description: """
                Prometheus text format: `weighin_http_requests_total{method,route,status}` (`route` is the route \
                pattern, e.g. `/v1/entries/{id}`), the histogram `weighin_http_request_duration_seconds{method,route}` \
                and `weighin_db_pool_connections{state}` with states `idle`, `busy` and `connecting`. With an ops \
                listener (`--ops-port`, required in production) it is served there only.
                """,
            answers: [.content("Metrics.", ["text/plain": ["schema": ["type": "string"]]])], usesDatabase: false
        ) { $0.operations.prometheus },
        Route(
            .get, "/openapi.json", authenticated: false, id: "getOpenAPI", summary: "This document", tag: .operations,
            description: "The OpenAPI 3.1 description of the API.",
            answers: [
                .content(
                    "The document.",
                    ["application/json": ["schema": ["type": "object", "required": ["openapi", "info", "paths"]]]])
            ],
            usesDatabase: false
        ) { $0.operations.openAPI },
    ]

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
            tokenCache: services.tokens.cacheStatistics, replicas: services.database.replicas?.statistics)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: text)))
    }

    /// The OpenAPI 3.1 document, rendered once when the router is built.
    @Sendable func openAPI(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: openAPIDocument))
    }
}
