import HTTPTypes
import Hummingbird

/// Everything done around every request, in one middleware: the request's task kept on its event loop, its id,
/// CORS, the rate limit, errors turned into problem JSON, metrics and the access-log line.
///
/// Why one: an async function's frame is allocated on its task's own stack, in slabs of at least 1,000 bytes that
/// the task keeps until it ends, and Hummingbird runs all the requests of a keep-alive connection in one task. So
/// each connection keeps the deepest stack any of its requests reached: with seven middlewares, each a frame or
/// two, 1,000 connections kept 38.9 MB of task stacks (heaptrack). Each concern stays in a type of its own
/// (``AccessLog``, ``CORSPolicy``, ``RateLimitPolicy``, ``ProblemAnswers``), with synchronous steps that this
/// middleware calls in order.
struct RequestPipelineMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let executors: EventLoopTaskExecutors
    let accessLog: AccessLog
    let metrics: AppMetrics
    /// Nil when no origin is allowed: then no answer carries CORS headers.
    let cors: CORSPolicy?
    /// Nil without a rate limit.
    let rateLimit: RateLimitPolicy?
    let problems: ProblemAnswers

    /// Runs the request with the event loop it runs on as its task's executor (``EventLoopTaskExecutor`` says why);
    /// off NIO's loops (where `main` has not made them run tasks, as in tests) it is handled as it is.
    func handle(
        _ request: Request, context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        guard let executor = executors.current else { return await respond(request, context, next) }
        return await withTaskExecutorPreference(executor) { await respond(request, context, next) }
    }

    /// The answer to `request`, in the order the steps apply: the id first; a CORS preflight is answered before the
    /// rate limit; over budget, the route is not run; any error becomes problem JSON; then the rate limit's and CORS
    /// headers, metrics, the id and the access line, on every answer.
    ///
    /// The steps before and after the route are synchronous functions of their own, not inlined here: this frame
    /// lives as long as the connection's task, and keeps only what crosses the route's `await` (640 bytes, where
    /// the steps inlined made it 2,368; a frame's size is in its async function pointer).
    private func respond(
        _ request: Request, _ context: AppRequestContext,
        _ next: (Request, AppRequestContext) async throws -> Response
    ) async -> Response {
        let admission = admit(request, context)
        let outcome: Result<Response, any Error>
        if let early = admission.answer {
            outcome = .success(early)
        } else {
            do {
                outcome = .success(try await next(request, admission.context))
            } catch {
                outcome = .failure(error)
            }
        }
        return finish(outcome, to: request, admission)
    }

    /// What the steps before the route decided.
    private struct Admission {
        /// The request's context, with its id.
        var context: AppRequestContext
        let started: ContinuousClock.Instant
        /// The CORS headers of the answer, when its origin is allowed.
        let allowedOrigin: HTTPFields?
        /// The rate limit's decision on an API call.
        let decision: RateLimiter.Decision?
        /// The answer when the route is not run: a CORS preflight, or a request over budget.
        let answer: Response?
    }

    @inline(never)
    private func admit(_ request: Request, _ context: AppRequestContext) -> Admission {
        var context = context
        context.requestID = AccessLog.requestID(from: request)
        let started = ContinuousClock.now
        let allowedOrigin = cors?.headers(for: request)
        if let allowedOrigin, request.method == .options {
            return Admission(
                context: context, started: started, allowedOrigin: allowedOrigin, decision: nil,
                answer: CORSPolicy.preflight())
        }
        let decision = rateLimit?.take(request, context)
        let refusal = decision.flatMap { $0.allowed ? nil : RateLimitPolicy.refusal($0, requestID: context.requestID) }
        return Admission(
            context: context, started: started, allowedOrigin: allowedOrigin, decision: decision, answer: refusal)
    }

    @inline(never)
    private func finish(
        _ outcome: Result<Response, any Error>, to request: Request, _ admission: Admission
    ) -> Response {
        var response: Response
        switch outcome {
        case .success(let answer): response = answer
        case .failure(let error): response = problems.response(to: error, of: request, context: admission.context)
        }
        if let decision = admission.decision, let rateLimit { rateLimit.stamp(&response, decision) }
        if let allowedOrigin = admission.allowedOrigin { response.headers.append(contentsOf: allowedOrigin) }
        let elapsed = admission.started.duration(to: .now)
        let route = RouteTable.label(forEndpoint: admission.context.endpointPath)
        metrics.recordRequest(
            method: request.method.rawValue, route: route, status: response.status.code, duration: elapsed)
        // A HEAD answer has headers only, errors included.
        if request.method == .head { response = response.createHeadResponse() }
        response.headers[.requestID] = admission.context.requestID
        accessLog.record(
            request, route: route, status: response.status.code, elapsed: elapsed, context: admission.context)
        return response
    }
}
