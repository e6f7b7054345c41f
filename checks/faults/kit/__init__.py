"""What the fault tests (checks/faults/*.py) use, as one namespace: `import kit as h`.

The shared harness (checks/harness) set up for these tests, and their own helpers:
  - `Cluster`: a private PostgreSQL cluster in a folder under /tmp (run as the `postgres` user when we are
    root), on 127.0.0.1 only, on a port from PORTS, with the queries the tests check the data with;
  - `Formation`: a pg_auto_failover monitor, primary and synchronous secondary (checks/harness/autofailover.py),
    with the same queries on its writable node;
  - `Server`: `weighin serve` against it (or with its own private cluster), with chosen flags (with `ops`, an
    ops listener of its own for readiness and metrics); `PORTS`: the ports they take,
    19000-19499 unless FAULTS_PORTS says first-last;
  - `history_csv`: an import body of many rows, each note naming the import and the row;
  - `Client`, `request`: a small HTTP/1.1 client that tells a refused connection, a connection closed without
    an answer and an answer cut mid-body apart; `burst`, `raw_request`, `raw_connections`: raw sockets;
  - `Log`, `Writes`, `writer_loop`, `reader_loop`, `verify_writes`: load from Python threads and its books;
  - `Report`, `run_test`: print each check and figure and end with one `SUMMARY` line (the runner shows it).

Importing it puts checks/ on sys.path, makes SIGTERM and SIGHUP end a test with clean-up, and raises the open-file
limit (see fixtures.py). Standard library only.
"""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))  # checks/

from harness.http import Client, request  # noqa: E402
from harness.processes import exit_on_signals  # noqa: E402

from .accounts import PASSWORD, entry_body, history_csv, new_user  # noqa: E402
from .load import (Log, Writes, count_by, join_all, percentile, reader_loop, record, start_threads,  # noqa: E402
                   verify_writes, writer_loop)
from .raw import burst, raw_connections, raw_request  # noqa: E402
from .report import Report, run_test  # noqa: E402
from .fixtures import (HERE, NO_RATE_LIMIT, PORTS, Cluster, Formation, Server, TableLock, loadtest, raise_fd_limit,  # noqa: E402
                       read_loadtest, stop_cluster_at_exit, workdir)

__all__ = [
    "HERE", "NO_RATE_LIMIT", "PORTS", "Client", "Cluster", "Formation", "Log", "PASSWORD", "Report", "Server", "TableLock",
    "Writes", "burst", "count_by", "entry_body", "history_csv", "join_all", "loadtest", "new_user", "percentile",
    "raw_connections", "raw_request", "read_loadtest", "reader_loop", "record", "request", "run_test",
    "start_threads", "stop_cluster_at_exit", "verify_writes", "workdir", "writer_loop",
]

exit_on_signals(signal.SIGTERM, signal.SIGHUP)
raise_fd_limit(65536)
