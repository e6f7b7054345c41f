#!/usr/bin/env python3
"""Fuzzing of JSON bodies, query strings, path ids and headers of every route: no 5xx.

Routes come from the served /openapi.json (every operation is fuzzed, new routes included). For each, a
seeded generator (FAULTS_SEED, default 5) sends FAULTS_FUZZ_CASES (default 400) requests built by mutating
a valid request: JSON values swapped for hostile ones (huge or tiny numbers, lone surrogates, control
characters, 100k-character strings, wrong types, deep nesting), members dropped, added or duplicated, bytes
cut, invalid UTF-8, NaN/Infinity/comments/trailing commas, other Content-Types; query parameters with
hostile, repeated, unknown or badly percent-encoded values; malformed path ids; odd Authorization headers.
Checks: no answer is 5xx (each failure is printed with its request), and every 4xx is problem JSON whose
`status` equals the HTTP status and which has a `code`. The whole run is bounded (FAULTS_FUZZ_SECONDS, 240).
"""

import json
import os
import random
import time
import urllib.parse
import uuid

import kit as h

SEED = int(os.environ.get("FAULTS_SEED", "5"))
CASES = int(os.environ.get("FAULTS_FUZZ_CASES", "400"))
BUDGET = float(os.environ.get("FAULTS_FUZZ_SECONDS", "240"))
DESTRUCTIVE = {"deleteMe", "deleteCurrentToken"}   # each case gets a fresh user

NASTY = [
    None, True, False, 0, -1, 1, 2 ** 63, -(2 ** 63) - 1, 10 ** 40, 1e308, -1e308, 5e-324, 0.1, 1.005, 999.999,
    1000.01, 2204.63, 70.123, -0.0, "", " ", "\u0000", "\ud800", "\udfff", "😀" * 300, "a" * 100_000, "NaN",
    "Infinity", "1e999", "2026-02-30", "2026-13-01", "9999-12-31", "0000-00-00", "1899-12-31", "-0001-01-01",
    "2026-1-1", "20260101", "kg", "LB", "lbs ", "KG", "stone", [], {}, [1, 2, 3], {"a": {"b": [None]}},
    "<script>alert(1)</script>", "' OR 1=1 --", "%s%n%x", "\r\nX-Injected: 1", "\\", "\"", "\u202e", "\ufeff",
    "ﬀ" * 200, "İ" * 300, "a@b", "@", "a@", "x" * 255 + "@example.com", " trimmed@example.com ",
]

RAW_NUMBERS = [b"1e99999999999", b"-", b"01", b"1.", b".5", b"+1", b"1E+2", b"0e0", b"-0", b"1" * 5000,
               b"NaN", b"Infinity", b"-Infinity", b"0x10", b"1_000", b"\xef\xbc\x91"]

QUERY_VALUES = ["", "0", "-1", "1001", "1000", "1", "99999999999999999999", "1.5", "abc", "kg", "lb", "lbs", "KG",
                "2026-02-29", "2024-02-29", "2026-13-40", "9999-99-99", "1900-01-01", "1899-12-31", "%00", "%ff", "%zz",
                "a" * 5000, "😀", "null", "[]", "{}", "true", " ", "+", "%2B", "csv", "json", "xml", "../../etc/passwd",
                "eyJhbGciOiJub25lIn0", "AAAA", "=" * 50]

PATH_IDS = [lambda own: own, lambda own: str(uuid.uuid4()), lambda own: own.upper(), lambda own: own.replace("-", ""),
            lambda own: own + "0", lambda own: own[:-1], lambda own: "..", lambda own: "%2e%2e", lambda own: "%00",
            lambda own: "a" * 3000, lambda own: "%F0%9F%98%80", lambda own: "00000000-0000-0000-0000-000000000000",
            lambda own: "{id}", lambda own: "null", lambda own: "-1", lambda own: "%ZZ",
            lambda own: own + "%20", lambda own: "ffffffff-ffff-ffff-ffff-ffffffffffff"]

CONTENT_TYPES = [None, "text/plain", "application/json; charset=utf-16", 'application/json;charset="UTF-8"',
                 "APPLICATION/JSON", "application/problem+json", "multipart/form-data; boundary=x", "application/json;;",
                 "text/csv", "application/x-www-form-urlencoded", "*/*", "application/json; charset=latin1"]


def day(offset=0):
    import datetime as dt
    return (dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=offset)).isoformat()


def base_body(op_id, user):
    entry = {"weight": 72.5, "unit": "kg", "recorded_on": day(3), "note": "fuzz"}
    return {
        "createUser": {"email": f"fz-{uuid.uuid4().hex[:10]}@example.com", "name": "Fuzz", "password": "fuzz-password-1",
                       "weight_unit": "kg"},
        "createToken": {"email": user.email, "password": user.password},
        "updateMe": {"name": "Fuzzed", "weight_unit": "lb"},
        "changePassword": {"current_password": "wrong-password-x", "new_password": "new-password-2"},
        "createEntry": entry,
        "updateEntry": {"weight": 71, "unit": "kg", "recorded_on": day(2), "note": None},
        "importEntries": [entry, dict(entry, recorded_on=day(5), unit="lb")],
    }.get(op_id, {})


def mutate_value(rng, value, depth=0):
    choice = rng.random()
    if depth > 3 or choice < 0.45:
        return rng.choice(NASTY)
    if isinstance(value, dict) and value:
        out = dict(value)
        key = rng.choice(list(out))
        op = rng.random()
        if op < 0.5:
            out[key] = mutate_value(rng, out[key], depth + 1)
        elif op < 0.7:
            del out[key]
        elif op < 0.85:
            out[rng.choice(["wieght", "id", "user_id", "created_at", "extra", "", "weight ", "Weight"])] = rng.choice(NASTY)
        else:
            out = {k: mutate_value(rng, v, depth + 1) for k, v in out.items()}
        return out
    if isinstance(value, list):
        out = list(value)
        op = rng.random()
        if out and op < 0.4:
            i = rng.randrange(len(out))
            out[i] = mutate_value(rng, out[i], depth + 1)
        elif op < 0.6:
            out = out * rng.choice([0, 50, 2000])
        else:
            out.append(rng.choice(NASTY))
        return out
    nest = rng.choice([2, 50, 3000])
    return json.loads("[" * nest + json.dumps(value) + "]" * nest) if nest < 900 else rng.choice(NASTY)


def mutate_bytes(rng, data: bytes) -> bytes:
    op = rng.randrange(12)
    if op == 0 and data:
        return data[:rng.randrange(len(data))]
    if op == 1:
        i = rng.randrange(len(data) + 1)
        return data[:i] + bytes([rng.randrange(256)]) + data[i:]
    if op == 2:
        return b"\xef\xbb\xbf" + data
    if op == 3:
        return data.replace(b"72.5", rng.choice(RAW_NUMBERS), 1).replace(b"71", rng.choice(RAW_NUMBERS), 1)
    if op == 4:
        return data.replace(b"}", b",}", 1)
    if op == 5:
        return b"/* c */" + data
    if op == 6:
        return data.replace(b'"', b"'")
    if op == 7:
        return b"\xff\xfe" + data
    if op == 8 and data.startswith(b"{") and len(data) > 2:
        return data[:-1] + b', "weight": 1, "weight": 2}'
    if op == 9:
        return rng.choice([b"", b" ", b"null", b"[]", b"{}", b"\"\"", b"0", b"true", b"\x00"])
    if op == 10:
        return data + b" garbage"
    return data.replace(b"fuzz", b"\\ud800\\u0000", 1)


def mutate_csv(rng) -> bytes:
    rows = [b"recorded_on,weight,unit,note", b"2026-01-01,70.5,kg,x", b"2026-01-02,155,lb,"]
    op = rng.randrange(10)
    if op == 0:
        rows.append(b'2026-01-03,70,kg,"unterminated')
    elif op == 1:
        rows[0] = b"weight,recorded_on"
    elif op == 2:
        rows.append(b"2026-01-03," + rng.choice(RAW_NUMBERS) + b",kg,x")
    elif op == 3:
        rows = [b"\xef\xbb\xbf" + rows[0]] + rows[1:]
    elif op == 4:
        rows.append(b"2026-01-03,70,kg,x,extra,columns")
    elif op == 5:
        rows.append(b"\xff\xfe,\x00,\r,\n")
    elif op == 6:
        rows = [b"recorded_on,weight,unit,note"] + [b"2026-01-01,70,kg,x"] * rng.choice([0, 100_001])
    elif op == 7:
        rows.append(b'"2026-01-04","7""0",kg,"a""b"')
    elif op == 8:
        rows = [b""]
    else:
        rows.append(b"2026-02-30,70,kg,")
    return b"\r\n".join(rows) + rng.choice([b"\r\n", b"\n", b"", b"\r"])


def build_query(rng, params):
    pairs = []
    for p in params:
        r = rng.random()
        if r < 0.35:
            continue
        pairs.append((p, rng.choice(QUERY_VALUES)))
        if r > 0.9:
            pairs.append((p, rng.choice(QUERY_VALUES)))
    if rng.random() < 0.25:
        pairs.append((rng.choice(["x", "unknown", "limit[]", "from ", "%00", "cursor"]), rng.choice(QUERY_VALUES)))
    if not pairs:
        return ""
    if rng.random() < 0.15:  # raw, not percent-encoded
        raw = "&".join(f"{k}={v}" for k, v in pairs)
        return "?" + urllib.parse.quote(raw, safe="/&=%+;:@!$'()*,[]{}|^`<>\"\\")
    return "?" + urllib.parse.urlencode(pairs)


def auth_header(rng, token):
    r = rng.random()
    if r < 0.9:
        return f"Bearer {token}"
    return rng.choice([None, "Bearer", "Bearer ", f"bearer {token}", f"Bearer {token}x", "Basic dXNlcjpwYXNz",
                       "Bearer " + "A" * 8000, f"Bearer  {token}", "Bearer wi_" + "0" * 60])


def main(report: h.Report):
    base = h.workdir("fuzz")
    cluster = h.Cluster(base).create()
    server = h.Server(base, cluster.url, args=h.NO_RATE_LIMIT + ("--hash-cost", "4", "--log-level", "warning", "--access-log", "off")).start()
    url = server.url
    doc = h.request(url, "GET", "/openapi.json").json()
    rng = random.Random(SEED)
    user = h.new_user(url, "fuzz")
    client = h.Client(url, timeout=30)
    own = client.request("POST", "/v1/entries", token=user.token, json_body=base_body("createEntry", user)).json()["id"]

    ops = []
    for path, item in doc["paths"].items():
        shared = item.get("parameters", [])
        for method, op in item.items():
            if method not in ("get", "put", "post", "patch", "delete"):
                continue
            params = []
            for p in shared + op.get("parameters", []):
                if "$ref" in p:
                    p = doc["components"]["parameters"][p["$ref"].split("/")[-1]]
                params.append(p)
            ops.append((method.upper(), path, op.get("operationId", path), params, "requestBody" in op,
                        list(op.get("requestBody", {}).get("content", {}).keys())))
    report.figure("operations", len(ops))
    report.figure("seed", SEED)

    deadline = time.monotonic() + BUDGET
    sent, server_errors, bad_problems, transport = 0, [], [], []
    statuses = {}
    per_op = {}
    for method, path, op_id, params, has_body, media in ops:
        n_cases = min(CASES, 25) if op_id in DESTRUCTIVE else CASES
        for i in range(n_cases):
            if time.monotonic() > deadline:
                break
            acting = h.new_user(url, "fuzzd") if op_id in DESTRUCTIVE else user
            target = path
            if "{id}" in path:
                target = path.replace("{id}", rng.choice(PATH_IDS)(own))
            query_params = [p["name"] for p in params if p.get("in") == "query"]
            target += build_query(rng, query_params)
            headers = {}
            auth = auth_header(rng, acting.token)
            if auth:
                headers["Authorization"] = auth
            if any(p.get("in") == "header" and p["name"] == "Idempotency-Key" for p in params) and rng.random() < 0.5:
                headers["Idempotency-Key"] = rng.choice(["k", "", " ", "k" * 256, "ké", "\t", f"fz-{rng.random()}", "a b"])
            body = None
            if has_body:
                ctype = "application/json"
                if "text/csv" in media and rng.random() < 0.4:
                    body, ctype = mutate_csv(rng), "text/csv"
                else:
                    value = base_body(op_id, acting)
                    if rng.random() < 0.8:
                        value = mutate_value(rng, value)
                    try:
                        body = json.dumps(value).encode()
                    except (ValueError, TypeError):
                        body = b"{}"
                    if rng.random() < 0.35:
                        body = mutate_bytes(rng, body)
                if rng.random() < 0.1:
                    ctype = rng.choice(CONTENT_TYPES)
                if ctype:
                    headers["Content-Type"] = ctype
            elif rng.random() < 0.1:
                body, headers["Content-Type"] = b'{"unexpected": true}', "application/json"
            sent += 1
            per_op[op_id] = per_op.get(op_id, 0) + 1
            try:
                r = client.request(method, target, body=body, headers=headers)
            except Exception as error:  # noqa: BLE001
                transport.append(f"{method} {target[:120]}: {error!r}")
                continue
            statuses[r.status] = statuses.get(r.status, 0) + 1
            if r.status >= 500:
                server_errors.append(f"{r.status} {method} {target[:160]} headers={ {k: v[:40] for k, v in headers.items()} } "
                                     f"body={(body or b'')[:160]!r} -> {r.body[:200]!r}")
            elif 400 <= r.status < 500:
                try:
                    problem = r.json()
                    ok = (r.header("Content-Type") or "").startswith("application/problem+json") \
                        and problem.get("status") == r.status and isinstance(problem.get("code"), str)
                except ValueError:
                    ok = False
                if not ok:
                    bad_problems.append(f"{r.status} {method} {target[:120]}: {r.body[:160]!r}")
            if op_id in ("updateMe", "changePassword") and i % 20 == 19:
                if client.request("GET", "/v1/me", token=user.token).status == 401:
                    user = h.new_user(url, "fuzz")

    # Request lines and heads no HTTP library would send.
    raw_cases = [
        b"GET /v1/entries?cursor=\xf0\x9f\x98\x80 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n",
        b"GET /v1/entries/\xff\xfe HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n",
        b"GET /v1/entries?limit=5%%00 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n",
        b"GET /v1/../v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n",
        b"GET //v1//me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n",
        b"GET http://evil/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n",
        b"GET * HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n",
        b"POST /v1/entries HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
        b"Content-Length: 5\r\nContent-Length: 6\r\n\r\n{}{}{}",
        b"POST /v1/entries HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
        b"Content-Length: -1\r\n\r\n{}",
        b"POST /v1/entries HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        b"PATCH /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
        b"Content-Length: 14\r\n\r\n{\"name\": \"\xc3\x28\"}",
        b"DELETE /v1/entries HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n",
        b"TRACE /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n",
        b"BREW /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n",
        b"GET /v1/me HTTP/1.0\r\nAuthorization: Bearer %s\r\n\r\n",
        b"GET /v1/me HTTP/2.0\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n",
        b"GET /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nAuthorization: Bearer x\r\n\r\n",
        b"GET /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\x00\r\n\r\n",
    ]
    res = h.burst(url, [c.replace(b"%s", user.token.encode()) if b"%s" in c else c for c in raw_cases], timeout=15)
    for case, r in zip(raw_cases, res):
        sent += 1
        if isinstance(r.status, int) and r.status >= 500:
            server_errors.append(f"{r.status} raw {case[:80]!r} -> {r.body[:160]!r}")
        elif r.status == "timeout":
            transport.append(f"raw {case[:80]!r}: no answer and not closed within 15 s")
    report.figure("raw_request_statuses", [r.status for r in res])

    report.figure("requests", sent)
    report.figure("per_operation", per_op)
    report.figure("statuses", dict(sorted(statuses.items())))
    report.figure("5xx", len(server_errors))
    report.figure("non_problem_4xx", len(bad_problems))
    for line in server_errors[:15]:
        report.note("5xx: " + line)
    for line in bad_problems[:5]:
        report.note("not problem JSON: " + line)
    for line in transport[:5]:
        report.note("transport: " + line)
    report.check("every operation was fuzzed", len(per_op) == len(ops), f"{len(per_op)} of {len(ops)}")
    report.check("no fuzzed request answered 5xx", not server_errors, f"{len(server_errors)} of {sent}")
    report.check("every 4xx is problem JSON with status and code", not bad_problems, f"{len(bad_problems)}")
    report.check("no request went unanswered (connection dropped)", not transport, f"{len(transport)}")
    report.check("the server is alive afterwards", server.alive() and h.request(url, "GET", "/healthz").status == 200)


if __name__ == "__main__":
    rep = h.Report("fuzz", "hostile JSON bodies, query strings, ids and headers on every route: no 5xx")
    h.run_test(rep, main)
