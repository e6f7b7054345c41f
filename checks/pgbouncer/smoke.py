"""A short walk through the API (used when the acceptance suite is not beside the checkout)."""
import json
import sys
import uuid
import urllib.request

base = sys.argv[1]


def call(method, path, body=None, token=None, expect=200):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, payload = error.code, error.read()
    assert status == expect, f"{method} {path}: expected {expect}, got {status} {payload[:200]!r}"
    return json.loads(payload) if payload else None


email = f"pgb-{uuid.uuid4().hex[:12]}@example.com"
call("POST", "/v1/users", {"email": email, "name": "P", "password": "password-1"}, expect=201)
token = call("POST", "/v1/tokens", {"email": email, "password": "password-1"}, expect=201)["token"]
for day in range(1, 29):
    call("POST", "/v1/entries", {"weight": 70 + day / 10, "recorded_on": f"2024-02-{day:02d}"}, token, expect=201)
page = call("GET", "/v1/entries?limit=10", token=token)
assert len(page["entries"]) == 10 and page["next_cursor"]
assert call("GET", "/v1/stats", token=token)["count"] == 28
call("DELETE", "/v1/tokens/current", token=token, expect=204)
call("GET", "/v1/me", token=token, expect=401)
print("smoke: 28 entries, listing, stats and log-out through pgbouncer")
