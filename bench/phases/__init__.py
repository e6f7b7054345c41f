"""The benchmark's phases, one a module, each a function of the Bench (lib/context.py) that measures and puts
its figures into the results; bench/run runs them in order.

  build        the release build (or the existing one, or a git revision)
  seed         the private cluster, and its users and entries seeded through the API
  ceiling      pgbench with the service's statements: PostgreSQL's ceiling, and its open-loop control
  service      the release server under `weighin loadtest` (closed loop), then the HTTP floor
  openloop     the service paced at 70 % of its measured maximum
  generator    `weighin loadtest` against wrk, on one core each, at nginx
  memory       resident memory with 1,000 keep-alive connections
  import_rate  POST /v1/entries/import of 100,000 rows, against psql's COPY of the same
  profile      `perf` of the server under the closed loop, and its system calls per request
  scale        the listing's cost at 100 k vs 10 M rows
"""
