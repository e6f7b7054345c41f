"""The benchmark's own pieces, shared by its phases (bench/phases); bench/run puts them together.

  context    Bench: the options, the results (summary.json), the results folder, ports, servers, retries
  log        the timestamped log (the terminal and run.log)
  workload   the request mix, its routes and the measured servers' flags
  machine    the machine's description and waits for quiet
  statements pg_stat_statements: reading, resetting, classifying; the monitoring psql session
  window     a measured window: CPU by process group, requests and statements between two snapshots
  pgbench    pgbench scripts from bench/pgbench/*.sql, pgbench's command and its latency logs
  loadtest   `weighin loadtest` with a measured window inside its run
  perf       `perf report` text, demangled
  summary    the summary table and the verdicts

The infrastructure it shares with the fault tests (cluster, server, processes, ports, HTTP, /proc) is
checks/harness.
"""
