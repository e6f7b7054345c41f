"""A short walk through the API (used when the acceptance suite is not beside the checkout)."""

import uuid

from harness.http import request


def call(base, method, path, body=None, token=None, expect=200):
    r = request(base, method, path, json_body=body, token=token)
    assert r.status == expect, f"{method} {path}: expected {expect}, got {r.status} {r.body[:200]!r}"
    return r.json() if r.body else None


def walk(base):
    email = f"pgb-{uuid.uuid4().hex[:12]}@example.com"
    call(base, "POST", "/v1/users", {"email": email, "name": "P", "password": "password-1"}, expect=201)
    token = call(base, "POST", "/v1/tokens", {"email": email, "password": "password-1"}, expect=201)["token"]
    for day in range(1, 29):
        call(base, "POST", "/v1/entries", {"weight": 70 + day / 10, "recorded_on": f"2024-02-{day:02d}"}, token,
             expect=201)
    page = call(base, "GET", "/v1/entries?limit=10", token=token)
    assert len(page["entries"]) == 10 and page["next_cursor"]
    assert call(base, "GET", "/v1/stats", token=token)["count"] == 28
    call(base, "DELETE", "/v1/tokens/current", token=token, expect=204)
    call(base, "GET", "/v1/me", token=token, expect=401)
    print("smoke: 28 entries, listing, stats and log-out through pgbouncer")
