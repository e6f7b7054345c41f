#!/usr/bin/env python3
"""Generates the OpenAPI 3.1.0 document of the weighin v1 contract (../shared/API.md), served at /openapi.json.

    scripts/gen-openapi.py > Sources/WeighinHTTP/Resources/openapi.json

The JSON file is the artefact the server serves; edit this script and regenerate, never the JSON by hand
(scripts/test checks that the two agree).
"""
import json
import sys

REF = lambda kind, name: {"$ref": f"#/components/{kind}/{name}"}  # noqa: E731

# Swift's CharacterSet.whitespacesAndNewlines (what the server trims): Unicode Zs, TAB, LF..CR, NEL, LS, PS.
WS = r"\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Control characters: refused inside an email (and NUL in a name), as the server does.
CTRL = r"\u0000-\u001f\u007f"
TIMESTAMP_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

PROBLEM_CODES = [
    "malformed_json", "malformed_csv", "unauthorized", "invalid_credentials", "not_found",
    "method_not_allowed", "email_taken", "idempotency_key_in_use", "payload_too_large",
    "unsupported_media_type", "validation_failed", "idempotency_key_reused", "too_many_rows",
    "too_many_attempts", "unavailable", "internal_error",
]

BEARER = [{"bearer": []}]
PUBLIC = []


# ----------------------------------------------------------------------------- schemas

def timestamp(desc):
    return {"type": "string", "format": "date-time", "pattern": TIMESTAMP_PATTERN, "description": desc}


def out_date(desc):
    return {"type": "string", "format": "date", "pattern": DATE_PATTERN, "description": desc}


WEIGHT_IN_DESC = (
    "A JSON number > 0 with at most 2 decimal places (checked on the number as written: 72.35 is valid, "
    "70.123 answers 422). The maximum depends on the unit: 1000 kg or 2204.62 lb. A weight sent without "
    "`unit` is in the display unit of the request (the `unit` query parameter if given, else the user's "
    "`weight_unit`). `NaN`/`Infinity` literals are not JSON (400); a number out of range such as `1e999` "
    "answers 422."
)
UNIT_IN = {
    "type": "string", "enum": ["kg", "lb", "lbs"],
    "description": "`kg` or `lb` (lower case only); `lbs` is accepted as `lb`.",
}
RECORDED_ON_IN = {
    "type": "string", "format": "date",
    "description": "A real calendar date `YYYY-MM-DD` from 1900-01-01 to today (UTC) + 1 day.",
}
NOTE_IN = {
    "type": ["string", "null"], "maxLength": 500,
    "description": "At most 500 Unicode code points; `null` (or absent on creation) means no note.",
}
# weight <= 1000 when the unit given in the same body is kg (lb/lbs allow up to 2204.62).
KG_LIMIT = {
    "if": {"required": ["unit"], "properties": {"unit": {"const": "kg"}}},
    "then": {"properties": {"weight": {"maximum": 1000}}},
}


def weight_in():
    return {"type": "number", "exclusiveMinimum": 0, "maximum": 2204.62, "description": WEIGHT_IN_DESC}


NAME_IN = {
    "type": "string", "minLength": 1, "maxLength": 255, "pattern": f"^[^\\u0000]*[^{WS}\\u0000][^\\u0000]*$",
    "description": "1 to 255 Unicode code points after trimming leading and trailing whitespace; stored trimmed.",
}
EMAIL_IN = {
    "type": "string", "maxLength": 254,
    "pattern": f"^[{WS}]*[^@{CTRL}]*[^@{WS}{CTRL}][^@{CTRL}]*@[^@{CTRL}]*[^@{WS}{CTRL}][^@{CTRL}]*[{WS}]*$",
    "description": "Trimmed, then stored lower-cased (Unicode default case mapping): at most 254 code points, "
                   "exactly one `@` with text on both sides. Unique regardless of case.",
}
PASSWORD_IN = {
    "type": "string", "minLength": 8, "maxLength": 128,
    "description": "8 to 128 Unicode code points. It verifies only against itself in full: two passwords that "
                   "share their first 72 bytes but differ after them are different passwords. Never echoed.",
}
WEIGHT_UNIT_IN = dict(UNIT_IN, description="The user's display unit: `kg` or `lb` (`lbs` accepted as `lb`).")

SCHEMAS = {
    "User": {
        "type": "object",
        "description": "A user. No password material ever appears in any answer.",
        "required": ["id", "email", "name", "weight_unit", "created_at"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "email": {"type": "string", "description": "Trimmed and lower-cased."},
            "name": {"type": "string", "description": "Trimmed."},
            "weight_unit": {"type": "string", "enum": ["kg", "lb"],
                            "description": "Display unit used when a request has no `unit` query parameter."},
            "created_at": timestamp("RFC 3339 in UTC with `Z`."),
        },
    },
    "Entry": {
        "type": "object",
        "description": "A weight entry, shown in the display unit of the answer (export: in its entered unit). "
                       "Where the display unit is the entered unit the weight is exactly as entered; otherwise "
                       "it is converted (1 lb = 0.45359237 kg) and rounded half away from zero to 2 decimals.",
        "required": ["id", "weight", "unit", "recorded_on", "note", "created_at", "updated_at"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "weight": {"type": "number", "minimum": 0, "description": "At most 2 decimal places."},
            "unit": {"type": "string", "enum": ["kg", "lb"]},
            "recorded_on": out_date("`YYYY-MM-DD`."),
            "note": {"type": ["string", "null"]},
            "created_at": timestamp("RFC 3339 in UTC with `Z`."),
            "updated_at": timestamp("RFC 3339 in UTC with `Z`."),
        },
    },
    "EntryList": {
        "type": "object",
        "required": ["entries", "next_cursor"],
        "additionalProperties": False,
        "properties": {
            "entries": {"type": "array", "items": REF("schemas", "Entry"),
                        "description": "Newest `recorded_on` first, then newest `created_at`, then `id`."},
            "next_cursor": {"type": ["string", "null"],
                            "description": "Opaque cursor of the next page (send it with the same `from`/`to`/"
                                           "`unit`), or null on the last page."},
        },
    },
    "Token": {
        "type": "object",
        "required": ["token", "token_type", "expires_at", "user"],
        "additionalProperties": False,
        "properties": {
            "token": {"type": "string", "minLength": 1,
                      "description": "Opaque random bearer token (at least 128 bits of entropy)."},
            "token_type": {"type": "string", "const": "Bearer"},
            "expires_at": timestamp("End of the token's fixed lifetime (30 days from log-in by default)."),
            "user": REF("schemas", "User"),
        },
    },
    "DatedWeight": {
        "type": ["object", "null"],
        "required": ["recorded_on", "weight"],
        "additionalProperties": False,
        "properties": {
            "recorded_on": out_date("`YYYY-MM-DD`."),
            "weight": {"type": "number"},
        },
    },
    "Stats": {
        "type": "object",
        "description": "Computed from exact values in the display unit, rounded half away from zero to 2 "
                       "decimals at the end. Empty range: `count` 0, `first`/`latest` null, every other "
                       "number null.",
        "required": ["unit", "count", "min", "max", "mean", "first", "latest", "change", "weekly_rate"],
        "additionalProperties": False,
        "properties": {
            "unit": {"type": "string", "enum": ["kg", "lb"]},
            "count": {"type": "integer", "minimum": 0},
            "min": {"type": ["number", "null"]},
            "max": {"type": ["number", "null"]},
            "mean": {"type": ["number", "null"], "description": "Mean over entries."},
            "first": dict(REF("schemas", "DatedWeight"),
                          description="Earliest entry (ties broken by created_at), or null."),
            "latest": dict(REF("schemas", "DatedWeight"),
                           description="Latest entry (ties broken by created_at), or null."),
            "change": {"type": ["number", "null"],
                       "description": "latest − first, computed exactly then rounded (may differ by 0.01 "
                                      "from the difference of the two shown weights)."},
            "weekly_rate": {"type": ["number", "null"],
                            "description": "Least-squares slope of weight against day over every entry, "
                                           "times 7; null with fewer than 2 distinct days."},
        },
    },
    "TrendPoint": {
        "type": "object",
        "required": ["date", "weight", "average"],
        "additionalProperties": False,
        "properties": {
            "date": out_date("A day that has entries."),
            "weight": {"type": "number", "description": "Mean of that day's entries (2 decimals)."},
            "average": {"type": "number",
                        "description": "Mean of the daily means of the days with entries within the `window` "
                                       "calendar days ending on `date` (looks back before `from`)."},
        },
    },
    "Trend": {
        "type": "object",
        "required": ["unit", "window", "points"],
        "additionalProperties": False,
        "properties": {
            "unit": {"type": "string", "enum": ["kg", "lb"]},
            "window": {"type": "integer", "minimum": 1, "maximum": 90},
            "points": {"type": "array", "items": REF("schemas", "TrendPoint"),
                       "description": "Ascending date order, one point per day with entries."},
        },
    },
    "ImportResult": {
        "type": "object",
        "required": ["imported"],
        "additionalProperties": False,
        "properties": {"imported": {"type": "integer", "minimum": 0}},
    },
    "FieldError": {
        "type": "object",
        "required": ["field", "message"],
        "properties": {
            "field": {"type": "string",
                      "description": "The body member, query parameter (`limit`, `cursor`, `unit`, `window`, "
                                     "`from`, `to`, `format`), header (`Idempotency-Key`) or import column "
                                     "at fault; an unknown body member is named itself."},
            "message": {"type": "string"},
        },
    },
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details (`application/problem+json`). `code` is stable and "
                       "machine-readable; `status` equals the HTTP status. Nothing internal is ever exposed.",
        "required": ["type", "title", "status", "detail", "code"],
        "properties": {
            "type": {"type": "string", "format": "uri-reference", "minLength": 1},
            "title": {"type": "string", "minLength": 1},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string", "minLength": 1},
            "code": {"type": "string", "enum": PROBLEM_CODES},
            "errors": {"type": "array", "items": REF("schemas", "FieldError"),
                       "description": "Present for 422 field failures."},
            "row": {"type": "integer", "minimum": 0,
                    "description": "Import only: the failing 1-based data row (the CSV header is row 0)."},
            "request_id": {"type": "string", "description": "Same value as the `X-Request-ID` header."},
        },
    },
    "UserCreate": {
        "type": "object",
        "required": ["email", "name", "password"],
        "additionalProperties": False,
        "properties": {
            "email": EMAIL_IN, "name": NAME_IN, "password": PASSWORD_IN,
            "weight_unit": dict(WEIGHT_UNIT_IN, description="Defaults to `kg`; `lbs` is stored as `lb`."),
        },
    },
    "UserUpdate": {
        "type": "object",
        "description": "Only the given members change. Changing your email to itself in another case is "
                       "allowed. Changing `weight_unit` never changes any stored entry.",
        "additionalProperties": False,
        "properties": {"name": NAME_IN, "email": EMAIL_IN, "weight_unit": WEIGHT_UNIT_IN},
    },
    "Credentials": {
        "type": "object",
        "required": ["email", "password"],
        "additionalProperties": False,
        "properties": {
            "email": {"type": "string", "description": "Matched trimmed and case-insensitively."},
            "password": {"type": "string"},
        },
    },
    "PasswordChange": {
        "type": "object",
        "required": ["current_password", "new_password"],
        "additionalProperties": False,
        "properties": {
            "current_password": {"type": "string", "description": "Wrong: 403 `invalid_credentials` "
                                 "(not counted as a failed log-in)."},
            "new_password": PASSWORD_IN,
        },
    },
    "EntryCreate": {
        "type": "object",
        "required": ["weight", "recorded_on"],
        "additionalProperties": False,
        "properties": {"weight": weight_in(), "unit": UNIT_IN, "recorded_on": RECORDED_ON_IN, "note": NOTE_IN},
        **KG_LIMIT,
    },
    "EntryUpdate": {
        "type": "object",
        "description": "Only the given members change. `unit` without `weight` relabels the stored number "
                       "(80 kg becomes 80 lb); `weight` without `unit` is in the display unit of the request; "
                       "`\"note\": null` clears the note.",
        "additionalProperties": False,
        "properties": {"weight": weight_in(), "unit": UNIT_IN, "recorded_on": RECORDED_ON_IN, "note": NOTE_IN},
        **KG_LIMIT,
    },
    "ImportEntry": {
        "type": "object",
        "description": "An entry body as for POST /v1/entries. `id`, `created_at` and `updated_at` (as JSON "
                       "export produces them) are accepted and ignored. A row with no or an empty `unit` is in "
                       "the display unit of the request.",
        "required": ["weight", "recorded_on"],
        "additionalProperties": False,
        "properties": {
            "weight": weight_in(),
            "unit": dict(UNIT_IN, enum=["kg", "lb", "lbs", ""],
                         description="`kg`, `lb` or `lbs`; empty or absent means the display unit."),
            "recorded_on": RECORDED_ON_IN,
            "note": NOTE_IN,
            "id": {"description": "Ignored."},
            "created_at": {"description": "Ignored."},
            "updated_at": {"description": "Ignored."},
        },
        **KG_LIMIT,
    },
    "Health": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"type": "string", "const": "ok"}},
    },
    "Ready": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"type": "string", "const": "ready"}},
    },
}

# ----------------------------------------------------------------------------- headers

HEADERS = {
    "XRequestId": {
        "description": "Identifier of this request (also in logs and as `request_id` in problem bodies). "
                       "Present on every response.",
        "required": True,
        "schema": {"type": "string", "minLength": 1},
    },
    "RetryAfter": {
        "description": "Whole seconds to wait before retrying.",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    },
    "WWWAuthenticate": {
        "description": "Always `Bearer` (possibly with parameters).",
        "required": True,
        "schema": {"type": "string", "pattern": "^[Bb][Ee][Aa][Rr][Ee][Rr]\\b"},
    },
    "EntryLocation": {
        "description": "Path of the new entry: `/v1/entries/{id}`.",
        "required": True,
        "schema": {"type": "string", "pattern": "^/v1/entries/[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-"
                                                "[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"},
    },
}


def headers(*extra):
    h = {"X-Request-ID": REF("headers", "XRequestId")}
    for name, comp in extra:
        h[name] = REF("headers", comp)
    return h


def json_content(schema):
    return {"application/json": {"schema": schema}}


def problem(description, status, codes, *extra_headers, extra_props=None):
    props = {"status": {"const": status}, "code": {"enum": codes} if len(codes) > 1 else {"const": codes[0]}}
    props.update(extra_props or {})
    return {
        "description": description,
        "headers": headers(*extra_headers),
        "content": {"application/problem+json": {"schema": {
            "allOf": [REF("schemas", "Problem"), {"properties": props}],
        }}},
    }


RESPONSES = {
    "NoContent": {"description": "Done; no body.", "headers": headers()},
    "BadRequest": problem("The body is not valid JSON (`NaN`/`Infinity` literals included).",
                          400, ["malformed_json"]),
    "ImportBadRequest": problem("The body is not valid JSON (`malformed_json`) or not CSV (`malformed_csv`).",
                                400, ["malformed_json", "malformed_csv"]),
    "Unauthorized": problem("Missing, malformed, expired or revoked token. Checked before anything else "
                            "(body, size, query).", 401, ["unauthorized"], ("WWW-Authenticate", "WWWAuthenticate")),
    "InvalidCredentials": problem("Wrong password or unknown email (the same answer for both).",
                                  401, ["invalid_credentials"]),
    "WrongCurrentPassword": problem("`current_password` is wrong.", 403, ["invalid_credentials"]),
    "NotFound": problem("No such entry: it does not exist, its id is not a canonical hyphenated UUID, or it "
                        "belongs to another user (indistinguishable).", 404, ["not_found"]),
    "EmailTaken": problem("Another account has this email (compared case-insensitively).", 409, ["email_taken"]),
    "IdempotencyKeyInUse": problem("A request with the same `Idempotency-Key` is still in flight.",
                                   409, ["idempotency_key_in_use"]),
    "PayloadTooLarge": problem("The body is over 1 MiB.", 413, ["payload_too_large"]),
    "ImportPayloadTooLarge": problem("The body is over 10 MiB.", 413, ["payload_too_large"]),
    "UnsupportedMediaType": problem("The body has another or no Content-Type (`application/json` expected; "
                                    "parameters such as `charset=utf-8` are allowed).",
                                    415, ["unsupported_media_type"]),
    "ImportUnsupportedMediaType": problem("The body is neither `text/csv` nor `application/json`.",
                                         415, ["unsupported_media_type"]),
    "ValidationFailed": problem("JSON that breaks a rule, an unknown body member, or an invalid query "
                                "parameter; `errors[].field` names each culprit.", 422, ["validation_failed"]),
    "EntryValidationFailed": problem(
        "`validation_failed` (body, query or `Idempotency-Key` invalid; `errors[].field` names it), or "
        "`idempotency_key_reused` (the key was used in the last 24 hours with a different body).",
        422, ["validation_failed", "idempotency_key_reused"]),
    "ImportValidationFailed": problem(
        "Nothing was stored. `validation_failed` with top-level `row` (1-based data row; the CSV header is "
        "row 0) and `errors[].field` naming the column, or for an invalid `unit` query parameter; "
        "`too_many_rows` over 100,000 rows.", 422, ["validation_failed", "too_many_rows"]),
    "TooManyAttempts": problem("10 failed log-ins for this email within 15 minutes: refused (even with the "
                               "right password) until the window has passed.", 429, ["too_many_attempts"],
                               ("Retry-After", "RetryAfter")),
    "Unavailable": problem("No database connection could be had in time (5 s by default), or the database is "
                           "not ready.", 503, ["unavailable"], ("Retry-After", "RetryAfter")),
    "InternalError": problem("Unexpected failure; nothing internal in the body.", 500, ["internal_error"]),
}

# ----------------------------------------------------------------------------- parameters

PARAMETERS = {
    "EntryId": {
        "name": "id", "in": "path", "required": True,
        "description": "Entry id: a UUID in the canonical hyphenated 36-character form (any other form: 404).",
        "schema": {"type": "string", "format": "uuid"},
    },
    "Unit": {
        "name": "unit", "in": "query", "required": False,
        "description": "Display unit of the answer (and unit of a weight sent without one); default: the "
                       "user's `weight_unit`. `lbs` means `lb`.",
        "schema": {"type": "string", "enum": ["kg", "lb", "lbs"]},
    },
    "From": {
        "name": "from", "in": "query", "required": False,
        "description": "First `recorded_on` date included (`YYYY-MM-DD`); must not be after `to` (422 on `from`).",
        "schema": {"type": "string", "format": "date"},
    },
    "To": {
        "name": "to", "in": "query", "required": False,
        "description": "Last `recorded_on` date included (`YYYY-MM-DD`).",
        "schema": {"type": "string", "format": "date"},
    },
    "Limit": {
        "name": "limit", "in": "query", "required": False,
        "description": "Page size, 1 to 1000.",
        "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
    },
    "Cursor": {
        "name": "cursor", "in": "query", "required": False,
        "description": "`next_cursor` of the previous page, sent with the same `from`/`to`/`unit`. A cursor "
                       "that was altered or forged, or is sent by another user or with other `from`/`to`, "
                       "answers 422 (field `cursor`).",
        "schema": {"type": "string"},
    },
    "Window": {
        "name": "window", "in": "query", "required": False,
        "description": "Moving-average window in calendar days, 1 to 90.",
        "schema": {"type": "integer", "minimum": 1, "maximum": 90, "default": 7},
    },
    "Format": {
        "name": "format", "in": "query", "required": False,
        "description": "`csv` (default) or `json`.",
        "schema": {"type": "string", "enum": ["csv", "json"], "default": "csv"},
    },
    "IdempotencyKey": {
        "name": "Idempotency-Key", "in": "header", "required": False,
        "description": "1 to 255 characters (empty or longer: 422 on `Idempotency-Key`). The same user sending "
                       "the same key with the same body (equal as parsed JSON: key order, whitespace and `70` vs "
                       "`70.0` do not matter, `lbs` = `lb`, but a missing `unit` differs from a given one) within "
                       "24 hours gets the first 201 answer again, byte for byte (same entry id, even if it was "
                       "deleted since), and nothing new is stored; a different body answers 422 "
                       "`idempotency_key_reused`. Only 201 answers are remembered; keys of different users "
                       "never collide. While the first request is in flight a second may wait and replay, or "
                       "answer 409 `idempotency_key_in_use`. (Leading and trailing blanks are not part of an HTTP header "
                       "value, so the key must contain a character other than space and tab.)",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "[^ \\t]"},
    },
}

# ----------------------------------------------------------------------------- operations

R = lambda name: REF("responses", name)  # noqa: E731
P = lambda name: REF("parameters", name)  # noqa: E731


def ok(description, content=None, *extra_headers, links=None):
    r = {"description": description, "headers": headers(*extra_headers)}
    if content is not None:
        r["content"] = content
    if links:
        r["links"] = links
    return r


def op(op_id, summary, description, tag, responses, *, auth=True, db=True, params=None, body=None,
       json_body=False, import_body=False, unprocessable=False):
    """responses: the success (and operation-specific) responses; shared ones are added here."""
    res = dict(responses)
    if json_body:
        res.update({"400": R("BadRequest"), "413": R("PayloadTooLarge"), "415": R("UnsupportedMediaType")})
        res.setdefault("422", R("ValidationFailed"))
    if import_body:
        res.update({"400": R("ImportBadRequest"), "413": R("ImportPayloadTooLarge"),
                    "415": R("ImportUnsupportedMediaType")})
    if unprocessable:
        res.setdefault("422", R("ValidationFailed"))
    if auth:
        res["401"] = R("Unauthorized")
    res["500"] = R("InternalError")
    if db:
        res["503"] = R("Unavailable")
    o = {
        "operationId": op_id,
        "summary": summary,
        "description": description,
        "tags": [tag],
        "security": BEARER if auth else PUBLIC,
    }
    if params:
        o["parameters"] = [P(p) for p in params]
    if body:
        o["requestBody"] = body
    o["responses"] = dict(sorted(res.items()))
    return o


def json_request(schema_name, description=None):
    b = {"required": True, "content": {"application/json": {"schema": REF("schemas", schema_name)}}}
    if description:
        b["description"] = description
    return b


AUTH_NOTE = " Requires `Authorization: Bearer <token>`."
DISPLAY_NOTE = (" The entry is shown in the display unit: the `unit` query parameter if given, else the user's "
                "`weight_unit`.")

ENTRY_LINKS = {
    "GetEntry": {"operationId": "getEntry", "parameters": {"id": "$response.body#/id"}},
    "UpdateEntry": {"operationId": "updateEntry", "parameters": {"id": "$response.body#/id"}},
    "DeleteEntry": {"operationId": "deleteEntry", "parameters": {"id": "$response.body#/id"}},
}

PATHS = {
    "/v1/users": {
        "post": op(
            "createUser", "Register a user",
            "Creates an account. The email is trimmed and stored lower-cased; the name is stored trimmed; "
            "`weight_unit` defaults to `kg`. Unknown members answer 422 naming them.",
            "accounts",
            {"201": ok("The new user.", json_content(REF("schemas", "User"))), "409": R("EmailTaken")},
            auth=False, body=json_request("UserCreate"), json_body=True),
    },
    "/v1/tokens": {
        "post": op(
            "createToken", "Log in",
            "Exchanges email and password for an opaque bearer token (the database keeps only its hash), valid "
            "for a fixed lifetime (30 days by default). The email is matched trimmed and case-insensitively; a "
            "wrong password and an unknown email give the same 401. After 10 failed log-ins for one email "
            "(trimmed, lower-cased, whether or not an account has it) within 15 minutes, log-in for that email "
            "answers 429 with `Retry-After`, even with the right password, until the window has passed; a "
            "success does not reset the count and 429 answers are not counted.",
            "accounts",
            {"201": ok("A new token.", json_content(REF("schemas", "Token"))),
             "401": R("InvalidCredentials"), "429": R("TooManyAttempts")},
            auth=False, body=json_request("Credentials"), json_body=True),
    },
    "/v1/tokens/current": {
        "delete": op(
            "deleteCurrentToken", "Log out",
            "Revokes the token that authenticates this request; it answers 401 from then on." + AUTH_NOTE,
            "accounts", {"204": R("NoContent")}),
    },
    "/v1/me": {
        "get": op("getMe", "Get the current user", "The user the token belongs to." + AUTH_NOTE, "accounts",
                  {"200": ok("The user.", json_content(REF("schemas", "User")))}),
        "patch": op(
            "updateMe", "Update the current user",
            "Changes the given members of `{name, email, weight_unit}`. Changing your email to itself in another "
            "case is allowed; changing `weight_unit` never changes any stored entry." + AUTH_NOTE,
            "accounts",
            {"200": ok("The updated user.", json_content(REF("schemas", "User"))), "409": R("EmailTaken")},
            body=json_request("UserUpdate"), json_body=True),
        "delete": op(
            "deleteMe", "Delete the current user",
            "Deletes the user, all their entries and all their tokens (through `ON DELETE CASCADE`); the email "
            "can register again afterwards." + AUTH_NOTE,
            "accounts", {"204": R("NoContent")}),
    },
    "/v1/me/password": {
        "put": op(
            "changePassword", "Change the password",
            "Checks `current_password` (a wrong one answers 403 and is not counted as a failed log-in), sets "
            "`new_password` and revokes every other token of the user; the token that made the change keeps "
            "working. Passwords verify only in full (not just their first 72 bytes)." + AUTH_NOTE,
            "accounts", {"204": R("NoContent"), "403": R("WrongCurrentPassword")},
            body=json_request("PasswordChange"), json_body=True),
    },
    "/v1/entries": {
        "get": op(
            "listEntries", "List entries",
            "The user's entries with `from` <= `recorded_on` <= `to` (inclusive), newest `recorded_on` first, "
            "then newest `created_at`, then `id`, at most `limit` per page. Following `next_cursor` (with the "
            "same `from`/`to`/`unit`) until it is null returns every entry in range exactly once, even while "
            "entries are added." + DISPLAY_NOTE + AUTH_NOTE,
            "entries", {"200": ok("A page of entries.", json_content(REF("schemas", "EntryList")))},
            params=["From", "To", "Limit", "Cursor", "Unit"], unprocessable=True),
        "post": op(
            "createEntry", "Record a weight",
            "Stores a weight exactly as entered (value and unit); a weight without `unit` is in the display unit "
            "of the request. With `Idempotency-Key` a retry replays the first 201 answer." + DISPLAY_NOTE
            + AUTH_NOTE,
            "entries",
            {"201": ok("The new entry.", json_content(REF("schemas", "Entry")), ("Location", "EntryLocation"),
                       links=ENTRY_LINKS),
             "409": R("IdempotencyKeyInUse"), "422": R("EntryValidationFailed")},
            params=["Unit", "IdempotencyKey"], body=json_request("EntryCreate"), json_body=True),
    },
    "/v1/entries/{id}": {
        "get": op("getEntry", "Get an entry", "One entry of the user." + DISPLAY_NOTE + AUTH_NOTE, "entries",
                  {"200": ok("The entry.", json_content(REF("schemas", "Entry"))), "404": R("NotFound")},
                  params=["EntryId", "Unit"], unprocessable=True),
        "patch": op(
            "updateEntry", "Update an entry",
            "Changes the given members; `unit` without `weight` relabels the stored number, `weight` without "
            "`unit` is in the display unit of the request, `\"note\": null` clears the note. `created_at` is "
            "kept, `updated_at` advances." + DISPLAY_NOTE + AUTH_NOTE,
            "entries",
            {"200": ok("The updated entry.", json_content(REF("schemas", "Entry"))), "404": R("NotFound")},
            params=["EntryId", "Unit"], body=json_request("EntryUpdate"), json_body=True),
        "delete": op("deleteEntry", "Delete an entry", "Deletes one entry of the user." + AUTH_NOTE, "entries",
                     {"204": R("NoContent"), "404": R("NotFound")}, params=["EntryId"], unprocessable=True),
    },
    "/v1/entries/export": {
        "get": op(
            "exportEntries", "Export all entries",
            "Every entry of the user, oldest first, weights in their entered units. CSV "
            "(`text/csv; charset=utf-8`): header `recorded_on,weight,unit,note`, RFC 4180 quoting, CRLF after "
            "every record (the last included), a null or empty note as an empty field. JSON: an array of entry "
            "objects." + AUTH_NOTE,
            "entries",
            {"200": ok("The export.", {
                "text/csv": {"schema": {"type": "string"},
                             "example": "recorded_on,weight,unit,note\r\n2026-11-26,80.5,kg,\"after run, tired\"\r\n"},
                "application/json": {"schema": {"type": "array", "items": REF("schemas", "Entry")}},
            })},
            params=["Format"], unprocessable=True),
    },
    "/v1/entries/import": {
        "post": op(
            "importEntries", "Import entries",
            "All rows or none; at most 100,000 rows (more: 422 `too_many_rows`); bodies up to 10 MiB. CSV as "
            "export produces it (`recorded_on` and `weight` columns required, `unit` and `note` optional; an "
            "empty note is null) or a JSON array of entry bodies (what JSON export produces is accepted: `id`, "
            "`created_at` and `updated_at` are ignored). A row with no or an empty unit is in the display unit "
            "(`unit` query parameter, else the user's `weight_unit`). A failing row answers 422 with top-level "
            "`row` (1-based data row; the CSV header is row 0 and fails as row 0 without `recorded_on` and "
            "`weight`) and `errors[].field` naming the column." + AUTH_NOTE,
            "entries",
            {"200": ok("Every row was stored.", json_content(REF("schemas", "ImportResult"))),
             "422": R("ImportValidationFailed")},
            params=["Unit"],
            body={"required": True, "content": {
                "application/json": {"schema": {"type": "array", "maxItems": 100000,
                                                "items": REF("schemas", "ImportEntry")}},
                "text/csv": {"schema": {"type": "string"},
                             "example": "recorded_on,weight,unit,note\r\n2026-11-26,80.5,kg,\r\n"},
            }},
            import_body=True),
    },
    "/v1/stats": {
        "get": op(
            "getStats", "Statistics",
            "Summary of the entries with `from` <= `recorded_on` <= `to` in the display unit (`unit`, else the "
            "user's `weight_unit`)." + AUTH_NOTE,
            "stats", {"200": ok("The statistics.", json_content(REF("schemas", "Stats")))},
            params=["From", "To", "Unit"], unprocessable=True),
    },
    "/v1/trend": {
        "get": op(
            "getTrend", "Trend",
            "One point per day with entries in range, ascending: the day's mean weight and the mean of the "
            "daily means within the `window` calendar days ending on that day (looking back before `from`); "
            "rounded half away from zero to 2 decimals, in the display unit." + AUTH_NOTE,
            "stats", {"200": ok("The trend.", json_content(REF("schemas", "Trend")))},
            params=["From", "To", "Unit", "Window"], unprocessable=True),
    },
    "/healthz": {
        "get": op("getHealth", "Liveness", "200 while the process runs.", "operations",
                  {"200": ok("Alive.", json_content(REF("schemas", "Health")))}, auth=False, db=False),
    },
    "/readyz": {
        "get": op("getReadiness", "Readiness",
                  "200 when the database answers and its schema is at the newest migration, else 503.",
                  "operations", {"200": ok("Ready.", json_content(REF("schemas", "Ready")))}, auth=False),
    },
    "/metrics": {
        "get": op(
            "getMetrics", "Prometheus metrics",
            "Prometheus text format: `weighin_http_requests_total{method,route,status}` (`route` is the route "
            "pattern, e.g. `/v1/entries/{id}`), the histogram `weighin_http_request_duration_seconds{method,"
            "route}` and `weighin_db_pool_connections{state}` with states `idle` and `busy`.",
            "operations",
            {"200": ok("Metrics.", {"text/plain": {"schema": {"type": "string"}}})}, auth=False, db=False),
    },
    "/openapi.json": {
        "get": op("getOpenAPI", "This document", "The OpenAPI 3.1 description of the API.", "operations",
                  {"200": ok("The document.", json_content({"type": "object", "required": ["openapi", "info",
                                                                                          "paths"]}))},
                  auth=False, db=False),
    },
}

DOC = {
    "openapi": "3.1.0",
    "info": {
        "title": "weighin",
        "version": "1.0.0",
        "summary": "Weight-tracking HTTP API.",
        "description": (
            "JSON in and out, UTF-8. A JSON endpoint given a body with another or no Content-Type answers 415; "
            "a body that is not valid JSON answers 400; JSON that breaks a rule (including unknown members and "
            "numbers out of range) answers 422. Authentication is checked first: a request without a valid "
            "token answers 401 whatever its body, size or query. Every error is RFC 9457 problem JSON "
            "(`application/problem+json`). An unknown route answers 404 `not_found`, a known route with another "
            "method 405 `method_not_allowed`. Timestamps are RFC 3339 in UTC with `Z`; dates are `YYYY-MM-DD`; "
            "lengths are counted in Unicode code points. Bodies over 1 MiB answer 413 (import: 10 MiB). Units "
            "are `kg` and `lb` (`lbs` accepted on input as `lb`); 1 lb = 0.45359237 kg exactly. Weights have "
            "at most 2 decimal places; an answer shows weights in the display unit (the `unit` query parameter, "
            "else the user's `weight_unit`): exactly as entered when that is the entered unit, otherwise "
            "converted and rounded half away from zero to 2 decimals (180.2 lb shows as 81.74 kg; 80 kg as "
            "176.37 lb). A request that cannot get a database connection in time answers 503 `unavailable` "
            "with `Retry-After`. Every response carries `X-Request-ID`."
        ),
    },
    "tags": [
        {"name": "accounts", "description": "Registration, log-in and the current user."},
        {"name": "entries", "description": "Weight entries."},
        {"name": "stats", "description": "Statistics and trend."},
        {"name": "operations", "description": "Health, readiness, metrics and this document."},
    ],
    "security": BEARER,
    "paths": PATHS,
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "`Authorization: Bearer <token>` with a token from POST /v1/tokens."},
        },
        "schemas": SCHEMAS,
        "parameters": PARAMETERS,
        "headers": HEADERS,
        "responses": RESPONSES,
    },
}

if __name__ == "__main__":
    json.dump(DOC, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
