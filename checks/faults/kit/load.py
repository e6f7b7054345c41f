"""Load from Python threads: the log of every request sent, write book-keeping, writer and reader loops, and
the figures the tests draw from them."""

import socket
import threading
import time

from harness.http import Client, Cut, NoAnswer

from .accounts import entry_body


class Log:
    """Every request a test sent: kind, start, end, status (or an error name), Retry-After present."""

    def __init__(self):
        self.lock = threading.Lock()
        self.items: list = []

    def add(self, kind, started, ended, status, retry_after=None, error=None, extra=None):
        with self.lock:
            self.items.append({"kind": kind, "start": started, "end": ended, "status": status,
                               "retry_after": retry_after, "error": error, "extra": extra})

    def snapshot(self):
        with self.lock:
            return list(self.items)


def record(log: Log, kind: str, fn):
    """Runs fn() -> Response, logs the outcome, returns the Response or None (error logged)."""
    started = time.monotonic()
    try:
        r = fn()
    except Cut as error:
        log.add(kind, started, time.monotonic(), "cut", error=str(error))
        return None
    except NoAnswer as error:
        log.add(kind, started, time.monotonic(), "no_answer", error=str(error))
        return None
    except ConnectionRefusedError as error:
        log.add(kind, started, time.monotonic(), "refused", error=str(error))
        return None
    except (socket.timeout, TimeoutError) as error:
        log.add(kind, started, time.monotonic(), "timeout", error=str(error))
        return None
    except OSError as error:
        log.add(kind, started, time.monotonic(), "oserror", error=repr(error))
        return None
    log.add(kind, r.started, r.ended, r.status, retry_after=r.retry_after_ok() if r.status in (429, 503) else None)
    return r


class Writes:
    """Book-keeping of entry writes: ids answered 201, and idempotency keys with the ids they were answered."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked_ids: set = set()
        self.key_ids: dict = {}      # idempotency key -> set of ids answered 201 for it
        self.keys_sent: set = set()  # every idempotency key sent at least once
        self.key_bodies: dict = {}   # idempotency key -> the body sent with it
        self.unacked_plain = 0       # writes without a key that got no 201 (fate unknown or refused)

    def acked(self, entry_id, key=None):
        with self.lock:
            self.acked_ids.add(entry_id)
            if key is not None:
                self.key_ids.setdefault(key, set()).add(entry_id)

    def sent_key(self, key, body=None):
        with self.lock:
            self.keys_sent.add(key)
            if body is not None:
                self.key_bodies[key] = body


def writer_loop(base, token, tag, stop: threading.Event, log: Log, writes: Writes, idempotent: bool,
                request_timeout: float, retry_deadline=None, pause: float = 0.0, retry_pause: float = 0.1):
    """Posts entries until `stop`; each note is unique (`tag-n`). With `idempotent`, every write has an
    Idempotency-Key equal to its note and is retried with the same key after a 503/409/no answer until it is
    answered 201 or `retry_deadline()` says to give up."""
    client = Client(base, timeout=request_timeout, token=token)
    n = 0
    while not stop.is_set():
        n += 1
        key = f"{tag}-{n}"
        body = entry_body(key)
        headers = {"Idempotency-Key": key} if idempotent else {}
        if idempotent:
            writes.sent_key(key, body)
        while True:
            r = record(log, "create-key" if idempotent else "create",
                       lambda: client.request("POST", "/v1/entries", json_body=body, headers=headers))
            if r is not None and r.status == 201:
                writes.acked(r.json()["id"], key if idempotent else None)
                break
            if not idempotent:
                with writes.lock:
                    writes.unacked_plain += 1
                break
            if retry_deadline is not None and retry_deadline():
                break
            if r is not None and r.status not in (409, 503):
                break
            time.sleep(retry_pause)
        if pause:
            time.sleep(pause)
    client.close()


def reader_loop(base, token, stop: threading.Event, log: Log, request_timeout: float, paths=None, pause=0.0):
    client = Client(base, timeout=request_timeout, token=token)
    paths = paths or ["/v1/entries?limit=20", "/v1/stats", "/v1/me"]
    i = 0
    while not stop.is_set():
        path = paths[i % len(paths)]
        i += 1
        record(log, "read", lambda: client.request("GET", path))
        if pause:
            time.sleep(pause)
    client.close()


def start_threads(targets) -> list:
    threads = [threading.Thread(target=t, daemon=True) for t in targets]
    for t in threads:
        t.start()
    return threads


def join_all(threads, timeout):
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    return [t for t in threads if t.is_alive()]


def percentile(values, p):
    if not values:
        return 0.0
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100.0 * len(values) + 0.5)) - 1))
    return values[k]


def count_by(items, key):
    out: dict = {}
    for item in items:
        out[item[key]] = out.get(item[key], 0) + 1
    return out


def verify_writes(report, cluster, writes: Writes, note_prefix: str, phase: str = ""):
    """Every id answered 201 exists; no idempotency key has more than one entry, nor was answered two ids. With
    `phase`, its figures and checks are named after it (a test of several phases)."""
    found = cluster.existing_ids(writes.acked_ids)
    lost = len(writes.acked_ids) - len(found)
    counts = cluster.note_counts(note_prefix)
    key_dups = sum(max(0, counts.get(k, 0) - 1) for k in writes.keys_sent)
    answered_twice = sum(1 for ids in writes.key_ids.values() if len(ids) > 1)
    key, label = (f"{phase}_", f"[{phase}] ") if phase else ("", "")
    report.figure(f"{key}acknowledged_writes", len(writes.acked_ids))
    report.figure(f"{key}lost_writes", lost)
    report.figure(f"{key}idempotency_keys", len(writes.keys_sent))
    report.figure(f"{key}duplicates", key_dups + answered_twice)
    report.check(f"{label}every entry answered 201 exists afterwards", lost == 0,
                 f"{len(found)} of {len(writes.acked_ids)} found")
    report.check(f"{label}no Idempotency-Key created more than one entry", key_dups == 0,
                 f"{key_dups} extra entries over {len(writes.keys_sent)} keys")
    report.check(f"{label}no Idempotency-Key was answered with two different ids", answered_twice == 0,
                 f"{answered_twice} keys")
