"""The harness the Python checks share: the fault tests (checks/faults), the PgBouncer check (checks/pgbouncer)
and the benchmark (bench/run).

  binaries   where PostgreSQL's programs and the weighin binary are
  processes  child processes and clean-up: whatever a check starts is undone at exit, on SIGTERM and on Ctrl-C
  ports      free TCP ports on 127.0.0.1 from a given range
  cluster    a throwaway PostgreSQL cluster (initdb/pg_ctl, as the postgres user when root; SCRAM-SHA-256, its
             random password in a 0600 password file that every URL it hands out names)
  server     `weighin serve`: start, wait until ready, signals, exit code, log, /metrics
  http       a small HTTP/1.1 client
  api        a registered user and its token
  procfs     CPU, memory, threads and descriptors of processes and of the machine, from /proc

Everything it starts listens on 127.0.0.1 only and every wait is bounded. Standard library only, Python 3.9+.
The suites put this folder's parent (checks/) on sys.path and import the modules by name:
`from harness.cluster import Cluster`.
"""


class HarnessError(RuntimeError):
    """A program the harness ran or started failed; the message says which, with the tail of what it printed."""
