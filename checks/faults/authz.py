#!/usr/bin/env python3
"""Object-level authorization, generated from the served /openapi.json.

For every operation whose path takes a parameter (`/v1/entries/{id}`, ...), user B calls it with user A's
object id: the answer must be 404 `not_found` (never 403, 2xx or a hint), and A's object must be unchanged
afterwards. As a control, B's call with B's own object must succeed (2xx), so a route that answers 404 to
everything does not pass. Operations that take an object id elsewhere are covered too: A's listing cursor sent
by B answers 422 (field cursor), and B's list, export and stats never contain A's entries.

An operation with a path parameter that this file does not know how to call fails the test: a new route must
be added here (the kinds of `main`, BODIES) to be covered.
"""

import json
import re

import kit as h

# A valid body for each operation that needs one (by operationId).
BODIES = {
    "updateEntry": {"note": "changed by the authorization test", "weight": 99.99},
}


def main(report: h.Report):
    base = h.workdir("authz")
    cluster = h.Cluster(base).create()
    server = h.Server(base, cluster.url, args=h.NO_RATE_LIMIT + ("--hash-cost", "4", "--log-level", "warning")).start()
    url = server.url
    doc = h.request(url, "GET", "/openapi.json").json()
    a, b = h.new_user(url, "owner"), h.new_user(url, "other")

    def create(user, note):
        r = h.request(url, "POST", "/v1/entries", token=user.token, json_body=h.entry_body(note))
        assert r.status == 201, r.body
        return r.json()

    def entry_state(user, object_id):
        r = h.request(url, "GET", f"/v1/entries/{object_id}", token=user.token)
        return r.json() if r.status == 200 else None

    def create_token(user, note):
        r = h.request(url, "POST", "/v1/me/tokens", token=user.token, json_body={"name": note, "scope": "read"})
        assert r.status == 201, r.body
        return r.json()

    def token_state(user, object_id):
        listed = h.request(url, "GET", "/v1/me/tokens", token=user.token).json()["tokens"]
        return next((t for t in listed if t["id"] == object_id), None)

    def create_webhook(user, note):
        r = h.request(url, "POST", "/v1/webhooks", token=user.token,
                      json_body={"url": "http://127.0.0.1:9/authz", "description": note})
        assert r.status == 201, r.body
        return r.json()

    def webhook_state(user, object_id):
        listed = h.request(url, "GET", "/v1/webhooks", token=user.token).json()["webhooks"]
        return next((w for w in listed if w["id"] == object_id), None)

    # The objects a path id can name: the path's prefix -> (make one for a user, its state as its owner sees it).
    kinds = {"/v1/entries/": (create, entry_state), "/v1/me/tokens/": (create_token, token_state),
             "/v1/webhooks/": (create_webhook, webhook_state)}

    ops = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in ("get", "put", "post", "patch", "delete") and "{" in path:
                ops.append((method.upper(), path, op.get("operationId", f"{method} {path}")))
    report.figure("operations_with_path_ids", len(ops))
    report.check("the document has operations that take an id", len(ops) > 0)

    for method, path, op_id in ops:
        params = re.findall(r"{(\w+)}", path)
        if params == ["client_record_id"]:
            client_ids(report, url, a, b, path)
            continue
        kind = next((k for prefix, k in kinds.items() if path.startswith(prefix)), None)
        if kind is None or params != ["id"]:
            report.check(f"{method} {path}: known to this test (add it to authz.py)", False, "unknown id kind")
            continue
        make, state = kind
        body = BODIES.get(op_id)
        needs_body = "requestBody" in doc["paths"][path][method.lower()]
        if needs_body and body is None:
            report.check(f"{method} {path}: a body is known for {op_id} (add it to BODIES)", False)
            continue
        owned_by_a = make(a, "authz-a")
        before = state(a, owned_by_a["id"])
        r = h.request(url, method, path.replace("{id}", owned_by_a["id"]), token=b.token, json_body=body)
        code = r.json().get("code") if r.body else None
        after = state(a, owned_by_a["id"])
        unchanged = after is not None and after == before
        report.check(f"{method} {path} with another user's id answers 404 not_found, object unchanged",
                     r.status == 404 and code == "not_found" and unchanged,
                     f"{r.status} {code}, A's object {'unchanged' if unchanged else 'CHANGED/GONE'}")
        if method == "GET":   # the router answers HEAD for every GET route too
            rh = h.request(url, "HEAD", path.replace("{id}", owned_by_a["id"]), token=b.token)
            report.check(f"HEAD {path} with another user's id answers 404", rh.status == 404, f"{rh.status}")
        own = make(b, "authz-b")
        r = h.request(url, method, path.replace("{id}", own["id"]), token=b.token, json_body=body)
        report.check(f"{method} {path} with the user's own id succeeds (control)", 200 <= r.status < 300, f"{r.status}")

    # Ids elsewhere: cursors, listings, export, statistics.
    for i in range(5):
        create(a, f"authz-a-{i}")
    r = h.request(url, "GET", "/v1/entries?limit=2", token=a.token).json()
    cursor = r["next_cursor"]
    rb = h.request(url, "GET", f"/v1/entries?limit=2&cursor={cursor}", token=b.token)
    fields = [e.get("field") for e in rb.json().get("errors", [])] if rb.status == 422 else []
    report.check("A's listing cursor sent by B answers 422 (field cursor)", rb.status == 422 and "cursor" in fields,
                 f"{rb.status} {fields}")
    a_ids = {e["id"] for e in json.loads(h.request(url, "GET", "/v1/entries/export?format=json", token=a.token).body)}
    b_list = h.request(url, "GET", "/v1/entries?limit=1000", token=b.token).json()["entries"]
    b_export = json.loads(h.request(url, "GET", "/v1/entries/export?format=json", token=b.token).body)
    b_stats = h.request(url, "GET", "/v1/stats", token=b.token).json()
    leaked = ({e["id"] for e in b_list} | {e["id"] for e in b_export}) & a_ids
    report.check("B's list and export hold none of A's entries", not leaked, f"{len(leaked)} of A's ids")
    report.check("B's stats count only B's entries", b_stats["count"] == len(b_export),
                 f"count {b_stats['count']}, B has {len(b_export)}")


def client_ids(report, url, a, b, path):
    """Client record ids are per user: B's PUT with A's client id makes B's own entry and leaves A's alone."""
    body = {"weight": 80, "recorded_on": "2026-01-01", "client_version": 5}
    ra = h.request(url, "PUT", path.replace("{client_record_id}", "authz-device-1"), token=a.token, json_body=body)
    before = h.request(url, "GET", f"/v1/entries/{ra.json()['id']}", token=a.token).json()
    rb = h.request(url, "PUT", path.replace("{client_record_id}", "authz-device-1"), token=b.token,
                   json_body=dict(body, weight=60, client_version=9))
    after = h.request(url, "GET", f"/v1/entries/{ra.json()['id']}", token=a.token).json()
    report.check(f"PUT {path} with another user's client id makes the caller's own entry, the other's unchanged",
                 ra.status == 201 and rb.status == 201 and rb.json()["id"] != ra.json()["id"] and after == before,
                 f"{ra.status} {rb.status}")


if __name__ == "__main__":
    rep = h.Report("authz", "object-level authorization for every route that takes an id (generated from /openapi.json)")
    h.run_test(rep, main)
