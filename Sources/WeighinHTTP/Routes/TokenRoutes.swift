import Hummingbird
import WeighinService

/// Personal access tokens: `/v1/me/tokens`. Every call needs a log-in token.
struct TokenRoutes {
    let services: WeighinServices

    static let routes: [Route] = [
        Route(
            .post, "/v1/me/tokens", authenticated: true, access: .logIn, id: "createPersonalToken",
            summary: "Create a personal access token", tag: .tokens,
            description: """
                Makes a token for a program: `scope` `read` may call every `GET`/`HEAD` on the user's data, `write` \
                may change it too; neither may manage tokens, change the password or the email, or delete the \
                account. `name` is \(TokenRules.nameLength.lowerBound) to \(TokenRules.nameLength.upperBound) \
                characters after trimming; it expires after `expires_in_days` \
                (\(TokenRules.expiryDays.lowerBound) to \(TokenRules.expiryDays.upperBound), default \
                \(TokenRules.defaultExpiryDays)). The token is in this answer only; the server keeps its hash. A user \
                has at most \(TokenRules.liveLimit) live tokens, log-in tokens included.
                """,
            body: .json(.personalTokenCreate),
            answers: [.json("The new token, shown this once.", .createdToken, status: 201), .problem(.limitReached)]
        ) { $0.tokens.create },
        Route(
            .get, "/v1/me/tokens", authenticated: true, access: .logIn, id: "listTokens", summary: "List live tokens",
            tag: .tokens,
            description: """
                Every live token of the user, oldest first: personal ones and log-in ones (`name` null, scope \
                `write`), never the secret. `last_used_at` is written at most once every \
                \(OpenAPI.spoken(ServiceConfiguration().tokenUseRecordInterval)) per token.
                """,
            answers: [.json("The live tokens.", .tokenList)]
        ) { $0.tokens.list },
        Route(
            .delete, "/v1/me/tokens/{id}", authenticated: true, access: .logIn, id: "deleteToken",
            summary: "Revoke a token", tag: .tokens,
            description: """
                Revokes one of the user's live tokens, personal or log-in: it answers 401 from then on, on every \
                instance within a second.
                """,
            parameters: [.tokenID], answers: [.noContent, .problem(.tokenNotFound)]
        ) { $0.tokens.delete },
    ]

    @Sendable func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try context.caller()
        var body = try BodyReader(
            try await RequestBodyReader.json(request), allowed: ["name", "scope", "expires_in_days"])
        var input = TokenRequest(
            name: body.string("name", required: true), scope: body.scope("scope"),
            expiresInDays: body.integer("expires_in_days"))
        input.problems = body.errors
        let created = try await services.tokens.createPersonal(auth, input)
        return JSONResponse.make(.created) { $0.createdToken(created) }
    }

    @Sendable func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let tokens = try await services.tokens.list(try context.caller())
        return JSONResponse.list("tokens", tokens) { $0.tokenSummary($1) }
    }

    @Sendable func delete(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await services.tokens.revoke(try context.caller(), id: try context.pathID())
        return JSONResponse.noContent()
    }
}
