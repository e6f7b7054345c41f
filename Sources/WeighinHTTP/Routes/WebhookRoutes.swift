import Hummingbird
import WeighinService
import WireFormats

/// The user's webhooks: `/v1/webhooks`, `/v1/webhooks/{id}` and its delivery log.
struct WebhookRoutes {
    let services: WeighinServices

    static let routes: [Route] = [
        Route(
            .post, "/v1/webhooks", authenticated: true, access: .logIn, id: "createWebhook", summary: "Add a webhook", tag: .webhooks,
            description: """
                Every change to the user's entries (`events`: `entry.created`, `entry.updated`, `entry.deleted`; \
                default all) is posted to `url` as `{"id", "type", "created_at", "data"}` (`data`: the entry in its \
                entered unit, or `{"id"}` for a deletion), signed by the Standard Webhooks headers `webhook-id`, \
                `webhook-timestamp` and `webhook-signature` (`v1,` + base64 of HMAC-SHA256 over `id.timestamp.body`, \
                keyed by the bytes of `secret` after `whsec_`, base64-decoded). `secret` is in this answer only. A \
                2xx within \(WebhookOutbox.attemptTimeout.wholeSeconds) s delivers it; anything else is retried with \
                growing delays (the first within 10 s) for \(OpenAPI.spoken(WebhookOutbox.giveUpAfter)), then the \
                webhook is disabled. At least once, in order per webhook. At most \(WebhookService.limit) webhooks \
                per user.
                """,
            body: .json(.webhookCreate),
            answers: [.json("The webhook, with its secret (shown this once).", .webhookCreated, status: 201),
                      .problem(.limitReached)]
        ) { $0.webhooks.create },
        Route(
            .get, "/v1/webhooks", authenticated: true, access: .logIn, id: "listWebhooks", summary: "List webhooks", tag: .webhooks,
            description: "The user's webhooks, oldest first, without their secrets.",
            answers: [.json("The webhooks.", .webhookList)]
        ) { $0.webhooks.list },
        Route(
            .delete, "/v1/webhooks/{id}", authenticated: true, access: .logIn, id: "deleteWebhook", summary: "Delete a webhook",
            tag: .webhooks, description: "Deletes the webhook, its pending deliveries and its log.",
            parameters: [.webhookID], answers: [.noContent, .problem(.webhookNotFound)]
        ) { $0.webhooks.delete },
        Route(
            .get, "/v1/webhooks/{id}/deliveries", authenticated: true, access: .logIn,
            id: "listWebhookDeliveries",
            summary: "The webhook's delivery attempts", tag: .webhooks,
            description: """
                The latest attempts to deliver the webhook's events, newest first (kept \
                \(OpenAPI.spoken(WebhookOutbox.logRetention))).
                """,
            parameters: [.webhookID, .deliveriesLimit],
            answers: [.json("The attempts.", .webhookDeliveryList), .problem(.webhookNotFound)]
        ) { $0.webhooks.deliveries },
    ]

    /// The members a webhook body may have.
    static let members: Set<String> = ["url", "events", "description"]

    @Sendable func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try context.caller()
        var body = try BodyReader(try await RequestBodyReader.json(request), allowed: Self.members)
        var input = NewWebhook(
            url: body.string("url", required: true), events: body.strings("events"),
            description: body.nullableString("description") ?? nil)
        input.problems = body.errors
        let (webhook, secret) = try await services.webhooks.create(auth, input)
        return JSONResponse.make(.created) { $0.webhook(webhook, secret: secret) }
    }

    @Sendable func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let webhooks = try await services.webhooks.list(try context.caller())
        return JSONResponse.list("webhooks", webhooks) { $0.webhook($1) }
    }

    @Sendable func delete(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await services.webhooks.delete(try context.caller(), id: try context.pathID())
        return JSONResponse.noContent()
    }

    @Sendable func deliveries(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try context.caller()
        let id = try context.pathID()
        var query = QueryReader(request)
        let limit = query.integer(
            "limit", in: WebhookService.deliveryPageSizes, default: WebhookService.defaultDeliveryPageSize)
        let deliveries = try await services.webhooks.deliveries(auth, id: id, limit: limit, problems: query.errors)
        return JSONResponse.list("deliveries", deliveries) { $0.delivery($1) }
    }
}
