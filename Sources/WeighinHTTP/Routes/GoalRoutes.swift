import Hummingbird
import WeighinService

/// The user's goal: `/v1/goal` and `/v1/goal/progress`.
struct GoalRoutes {
    let services: WeighinServices

    static let routes: [Route] = [
        Route(
            .put, "/v1/goal", authenticated: true, id: "setGoal", summary: "Set the goal", tag: .goals,
            description: """
                Sets the goal, replacing any (one per user). `unit` applies to `target_weight` and `start_weight` \
                (without it, the display unit of the request); `start_weight` and `start_date` come together or not \
                at all, and default to the latest entry (its weight in its own unit, and its `recorded_on`). The \
                target must differ from the start, and `target_date` must be after `start_date`.
                """ + displayUnit,
            parameters: [.unit], body: .json(.goalSet),
            answers: [
                .json("The goal, which replaced the previous one.", .goal),
                .json("The goal; there was none before.", .goal, status: 201), .problem(.validationFailed),
            ]
        ) { $0.goals.set },
        Route(
            .get, "/v1/goal", authenticated: true, id: "getGoal", summary: "Get the goal", tag: .goals,
            description: "The user's goal." + displayUnit, parameters: [.unit, .weighinPosition],
            answers: [.json("The goal.", .goal), .problem(.noGoal)]
        ) { $0.goals.get },
        Route(
            .delete, "/v1/goal", authenticated: true, id: "deleteGoal", summary: "Delete the goal", tag: .goals,
            description: "Deletes the user's goal.", answers: [.noContent, .problem(.noGoal)]
        ) { $0.goals.delete },
        Route(
            .get, "/v1/goal/progress", authenticated: true, id: "getGoalProgress", summary: "Progress towards the goal",
            tag: .goals,
            description: """
                Where the goal stands: the smoothed current weight (`ema`, α \(GoalService.currentSmoothing), over the \
                whole history), what remains, the share done, the weekly rate of the last \(GoalService.rateDays) \
                days and the day the target would be reached at that rate.
                """ + displayUnit,
            parameters: [.unit, .ifNoneMatch, .weighinPosition],
            answers: [.json("The progress.", .goalProgress, headers: [.eTag]), .notModified, .problem(.noGoal)]
        ) { $0.goals.progress },
    ]

    /// How the goal routes choose the unit they show.
    static let displayUnit = """
         Weights are shown in the display unit (the `unit` query parameter if given, else the user's `weight_unit`): \
        exactly as set in their own unit, else converted and rounded to \(EntryRules.weightPlaces) decimals.
        """

    @Sendable func set(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try context.caller()
        let json = try await RequestBodyReader.json(request)
        var query = QueryReader(request)
        let display = query.unit() ?? auth.weightUnit
        var body = try BodyReader(json, allowed: BodyReader.goalMembers)
        var input = body.newGoal()
        input.problems = query.errors + body.errors
        let (goal, created) = try await services.goals.set(auth, input, display: display)
        return JSONResponse.make(created ? .created : .ok) { $0.goal(goal, display: display) }
    }

    @Sendable func get(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try context.caller()
        var query = QueryReader(request)
        let display = query.unit() ?? auth.weightUnit
        try query.finish()
        let goal = try await services.goals.get(auth)
        return JSONResponse.make { $0.goal(goal, display: display) }
    }

    @Sendable func delete(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await services.goals.delete(try context.caller())
        return JSONResponse.noContent()
    }

    @Sendable func progress(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try context.caller()
        var query = QueryReader(request)
        let display = query.unit() ?? auth.weightUnit
        try query.finish()
        let progress = try await services.goals.progress(auth, display: display)
        return JSONResponse.tagged(request) { $0.progress(progress, display: display) }
    }
}
