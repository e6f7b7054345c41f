import Foundation
import Migrations
import Testing

/// The migrator sends a file's statements one at a time; the split must cut at every top-level semicolon and at
/// nothing else, as `psql` does.
@Suite("Migrations: a file split into its statements")
struct SQLStatementsTests {
    func texts(_ script: String) -> [String] {
        SQLStatements.split(script).map(\.text)
    }

    @Test func stringsAndQuotedIdentifiersHideTheirSemicolons() {
        #expect(texts("SELECT ';' AS a; SELECT 2") == ["SELECT ';' AS a", "SELECT 2"])
        #expect(texts("SELECT 'it''s; fine'; SELECT 3;") == ["SELECT 'it''s; fine'", "SELECT 3"])
        // E'' strings take backslash escapes; standard strings do not.
        #expect(texts(#"SELECT E'\'; still', e'\\'; SELECT 'C:\'; SELECT 4"#)
            == [#"SELECT E'\'; still', e'\\'"#, #"SELECT 'C:\'"#, "SELECT 4"])
        // A word ending in e is not the E of an escape string.
        #expect(texts(#"SELECT some'\'; SELECT 5"#) == [#"SELECT some'\'"#, "SELECT 5"])
        #expect(texts(#"SELECT "a;b" FROM "t""; x"; SELECT 6"#) == [#"SELECT "a;b" FROM "t""; x""#, "SELECT 6"])
        #expect(texts("SELECT 'é;ü' ; SELECT 'ß'") == ["SELECT 'é;ü'", "SELECT 'ß'"])
    }

    @Test func commentsHideTheirSemicolonsAndQuotes() {
        let script = """
            -- one; two 'three
            SELECT 1 /* a; /* nested; ' */ still; */ + 1; /* trailing; */
            -- only a comment;
            """
        #expect(SQLStatements.split(script) == [SQLStatement(text: "SELECT 1 /* a; /* nested; ' */ still; */ + 1", line: 2)])
        #expect(texts("SELECT 1 -- the end; really\n, 2; SELECT 3") == ["SELECT 1 -- the end; really\n, 2", "SELECT 3"])
        #expect(texts("").isEmpty)
        #expect(texts(" ;\n; -- nothing\n/* at all */ ;").isEmpty)
    }

    @Test func dollarQuotesHideTheirSemicolonsButPlaceholdersAndIdentifiersOpenNone() {
        let function = """
            CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$
            BEGIN
                RAISE NOTICE '$$;'; -- $$ inside another tag
                RETURN 1;
            END $body$
            """
        #expect(texts(function + ";\nSELECT 2") == [function, "SELECT 2"])
        #expect(texts("DO $$ BEGIN PERFORM 1; END $$; SELECT 3") == ["DO $$ BEGIN PERFORM 1; END $$", "SELECT 3"])
        #expect(texts("SELECT a$b$c, $1 FROM t; SELECT $x$;$x$") == ["SELECT a$b$c, $1 FROM t", "SELECT $x$;$x$"])
    }

    @Test func standardFunctionBodiesAreOneStatement() {
        let atomic = """
            CREATE FUNCTION g(x int) RETURNS int LANGUAGE sql
            BEGIN ATOMIC
                SELECT 1;
                SELECT CASE WHEN x > 0 THEN 2 ELSE 3 END;
            END
            """
        #expect(texts(atomic + "; SELECT 4") == [atomic, "SELECT 4"])
        // A transaction's own BEGIN opens no block.
        #expect(texts("BEGIN; SELECT 1; COMMIT;") == ["BEGIN", "SELECT 1", "COMMIT"])
        #expect(texts("SELECT CASE WHEN true THEN 1 END; SELECT 2") == ["SELECT CASE WHEN true THEN 1 END", "SELECT 2"])
    }

    @Test func unterminatedTextStaysInTheLastStatementForTheServerToReport() {
        #expect(texts("SELECT 1; SELECT 'abc; SELECT 2") == ["SELECT 1", "SELECT 'abc; SELECT 2"])
        #expect(texts("SELECT 1; /* open; SELECT 2") == ["SELECT 1"])
    }

    @Test func statementsKnowTheirLine() {
        let script = "SELECT 1;\n\n-- a comment\nSELECT\n  'two\nlines'; SELECT 3;\n/* x\n */ SELECT 4"
        #expect(SQLStatements.split(script).map(\.line) == [1, 4, 6, 8])
    }

    /// The project's own files: the statements, in order, are the file's text but for the semicolons, spaces and
    /// comments between them; the counts are psql's (its statements in the server's log, `log_statement = all`).
    @Test func theProjectsFilesSplitAsPsqlSplitsThem() throws {
        let expected = [1: 4, 2: 8, 3: 3, 4: 3, 5: 1, 6: 12, 7: 13, 8: 2, 9: 3]
        for migration in TestCluster.migrations {
            let statements = migration.statements
            if let count = expected[migration.version] {
                #expect(statements.count == count, "\(migration.fileName)")
            }
            var rest = Substring(migration.sql)
            for statement in statements {
                let found = try #require(rest.range(of: statement.text), "\(migration.fileName): \(statement.text)")
                let between = String(rest[..<found.lowerBound])
                let stripped = between.replacing(/--[^\n]*/, with: "").replacing(/\/\*.*?\*\//.dotMatchesNewlines(), with: "")
                #expect(stripped.allSatisfy { $0.isWhitespace || $0 == ";" }, "\(migration.fileName): \(between)")
                #expect(!statement.text.hasSuffix(";"))
                rest = rest[found.upperBound...]
            }
            #expect(rest.allSatisfy { $0.isWhitespace || $0 == ";" }, "\(migration.fileName): \(rest)")
        }
    }
}
