-- Run once when the db container first creates its cluster (docker-entrypoint-initdb.d).
-- weighin asks for its statement_timeout in the `options` startup parameter, which PgBouncer drops; set on the role,
-- every session has it, through PgBouncer too (weighin checks at start, and --production refuses without it).
ALTER ROLE postgres SET statement_timeout = '30s';
