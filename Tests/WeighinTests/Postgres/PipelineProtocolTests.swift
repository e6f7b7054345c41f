import CLibPQ
import Foundation
import Synchronization
import Testing

@testable import Postgres

/// What a pipelined connection sent and what each result completes, fed with results made without a server.
@Suite("Postgres: the pipeline protocol")
struct PipelineProtocolTests {
    typealias Outcome = Result<PostgresResult, PostgresError>
    let t0 = ContinuousClock.now

    /// A result as libpq makes it for a completed command (no server needed).
    func ok() -> PostgresResult {
        PostgresResult(taking: PQmakeEmptyPGresult(nil, PGRES_COMMAND_OK)!)
    }

    func serverError(_ code: PostgresError.Code) -> PostgresError {
        PostgresError(code: code, message: "from the server")
    }

    /// Collects the outcome of each completion it makes, by tag.
    final class Outcomes: Sendable {
        private let outcomes = Mutex<[String: Outcome]>([:])
        func completion(_ tag: String) -> PipelineProtocol.Completion {
            { outcome in self.outcomes.withLock { $0[tag] = outcome } }
        }
        subscript(tag: String) -> Outcome? { outcomes.withLock { $0[tag] } }
    }

    func send(_ pipeline: inout PipelineProtocol, _ sql: SQL, _ tag: String, _ outcomes: Outcomes) -> PipelineProtocol.SendPlan {
        let plan = pipeline.plan(sql)
        pipeline.sent(sql, plan, completion: outcomes.completion(tag), now: t0)
        return plan
    }

    func deliver(_ pipeline: inout PipelineProtocol, _ events: [PipelineProtocol.Event]) {
        for event in events {
            if let (completion, outcome) = pipeline.receive(event, now: t0) { completion(outcome) }
        }
    }

    @Test func aStatementIsPreparedOnceAndRunByNameOnceTheServerConfirmedIt() throws {
        var pipeline = PipelineProtocol(preparedStatements: .named)
        let outcomes = Outcomes()
        let select: SQL = "SELECT \(1) AS n"
        #expect(send(&pipeline, select, "first", outcomes) == .prepareAndRun(name: "wi1"))
        // Until the Parse is confirmed, the same text goes unprepared (a failing Parse takes nobody down with it).
        #expect(send(&pipeline, select, "second", outcomes) == .unprepared)
        deliver(&pipeline, [.result(ok()), .result(ok()), .sync])
        #expect(try outcomes["first"]?.get() != nil)
        deliver(&pipeline, [.result(ok()), .sync])
        #expect(try outcomes["second"]?.get() != nil)
        #expect(pipeline.plan(select) == .run(name: "wi1"))
        #expect(pipeline.plan("SELECT \("text") AS n") == .unprepared, "the same text with other parameter types")
        #expect(pipeline.isIdle)
    }

    @Test func textsOfOneLengthThatDifferOnlyBetweenTheHashedBytesAreTwoStatements() {
        // The key hashes 16 bytes of the text; these two differ only in byte 7, which is not one of them.
        var pipeline = PipelineProtocol(preparedStatements: .named)
        let padding = String(repeating: " ", count: 190)
        let first = SQL.unsafeSQL("SELECT 1 AS a" + padding), second = SQL.unsafeSQL("SELECT 2 AS a" + padding)
        let outcomes = Outcomes()
        #expect(send(&pipeline, first, "first", outcomes) == .prepareAndRun(name: "wi1"))
        #expect(send(&pipeline, second, "second", outcomes) == .prepareAndRun(name: "wi2"))
        deliver(&pipeline, [.result(ok()), .result(ok()), .sync, .result(ok()), .result(ok()), .sync])
        #expect(pipeline.plan(first) == .run(name: "wi1"))
        #expect(pipeline.plan(second) == .run(name: "wi2"))
    }

    @Test func unnamedModePreparesNothing() {
        var pipeline = PipelineProtocol(preparedStatements: .unnamed)
        for _ in 0..<3 { #expect(pipeline.plan("SELECT 1") == .unprepared) }
    }

    @Test func aFailedParseFailsItsStatementAloneAndIsPreparedAgainLater() {
        var pipeline = PipelineProtocol(preparedStatements: .named)
        let outcomes = Outcomes()
        let locked: SQL = "SELECT count(*) FROM locked"
        _ = send(&pipeline, locked, "parse-fails", outcomes)
        _ = send(&pipeline, locked, "follower", outcomes)
        deliver(&pipeline, [.error(serverError(.queryCanceled)), .aborted, .sync])
        #expect(outcomesCode(outcomes["parse-fails"]) == .queryCanceled)
        deliver(&pipeline, [.result(ok()), .sync])
        #expect(outcomesCode(outcomes["follower"]) == nil, "its own sync group: unaffected")
        #expect(pipeline.plan(locked) == .prepareAndRun(name: "wi2"), "forgotten, so prepared anew")
    }

    @Test func errorsAbortedStatementsAndMissingResultsFailTheirOwnCaller() {
        var pipeline = PipelineProtocol(preparedStatements: .unnamed)
        let outcomes = Outcomes()
        _ = send(&pipeline, "INSERT 1", "violates", outcomes)
        _ = send(&pipeline, "INSERT 2", "aborted", outcomes)
        _ = send(&pipeline, "INSERT 3", "nothing", outcomes)
        deliver(&pipeline, [.error(serverError(.uniqueViolation)), .sync, .aborted, .sync, .sync])
        #expect(outcomesCode(outcomes["violates"]) == .uniqueViolation)
        #expect(outcomesCode(outcomes["aborted"]) == .inFailedTransaction)
        #expect(outcomesCode(outcomes["nothing"]) == .connectionFailure)
    }

    @Test func whenTheConnectionEndsEveryStatementInFlightFailsWithItsOwnErrorFirst() {
        var pipeline = PipelineProtocol(preparedStatements: .unnamed)
        let outcomes = Outcomes()
        _ = send(&pipeline, "SELECT 1", "had-error", outcomes)
        _ = send(&pipeline, "SELECT 2", "waiting", outcomes)
        deliver(&pipeline, [.error(serverError(.adminShutdown))])
        let lost = PostgresError(code: .connectionFailure, message: "server closed the connection")
        for (completion, outcome) in pipeline.failAll(lost) { completion(outcome) }
        #expect(outcomesCode(outcomes["had-error"]) == .adminShutdown)
        #expect(outcomesCode(outcomes["waiting"]) == .connectionFailure)
        #expect(pipeline.isIdle && pipeline.headSince == nil)
    }

    @Test func theHeadsWaitStartsWhenItBecomesTheHead() {
        var pipeline = PipelineProtocol(preparedStatements: .unnamed)
        let outcomes = Outcomes()
        #expect(pipeline.headSince == nil)
        pipeline.sent("SELECT 1", .unprepared, completion: outcomes.completion("a"), now: t0)
        pipeline.sent("SELECT 2", .unprepared, completion: outcomes.completion("b"), now: t0 + .seconds(1))
        #expect(pipeline.headSince == t0, "the second does not move the head's clock")
        _ = pipeline.receive(.result(ok()), now: t0 + .seconds(2))
        _ = pipeline.receive(.sync, now: t0 + .seconds(3))
        #expect(pipeline.headSince == t0 + .seconds(3) && pipeline.headLabel == "SELECT 2")
        _ = pipeline.receive(.result(ok()), now: t0 + .seconds(4))
        _ = pipeline.receive(.sync, now: t0 + .seconds(4))
        #expect(pipeline.headSince == nil && pipeline.isIdle)
    }

    func outcomesCode(_ outcome: Outcome?) -> PostgresError.Code? {
        guard case .failure(let error)? = outcome else { return nil }
        return error.code
    }
}
