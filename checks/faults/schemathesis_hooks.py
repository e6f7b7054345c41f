"""Schemathesis hooks for weighin (loaded through SCHEMATHESIS_HOOKS=schemathesis_hooks by schemathesis_run.py).

Authentication as a real client does it: log in with a registered user and send `Authorization: Bearer`.
  - Operations that end their own credentials (DELETE /v1/me deletes the account, DELETE /v1/tokens/current
    revokes the token) get a fresh user for every call, so they are tested with valid credentials every time
    without logging out the user every other operation runs as.
  - Every other operation runs as one shared user (its entries are the ones later calls find).
WEIGHIN_URL is the server's base URL.
"""

import os
import uuid

import requests
import schemathesis

BASE = os.environ["WEIGHIN_URL"]
SELF_ENDING = ["deleteMe", "deleteCurrentToken"]
_shared: dict = {}


def _register(prefix: str) -> str:
    email = f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"
    password = "schemathesis-password"
    r = requests.post(f"{BASE}/v1/users", json={"email": email, "name": "Schemathesis", "password": password}, timeout=30)
    r.raise_for_status()
    r = requests.post(f"{BASE}/v1/tokens", json={"email": email, "password": password}, timeout=30)
    r.raise_for_status()
    return r.json()["token"]


@schemathesis.auth(refresh_interval=None).apply_to(operation_id=SELF_ENDING)
class ThrowawayUser:
    def get(self, case, context):
        return _register("st-throwaway")

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.auth(refresh_interval=None).skip_for(operation_id=SELF_ENDING)
class SharedUser:
    def get(self, case, context):
        if "token" not in _shared:
            _shared["token"] = _register("st-shared")
        return _shared["token"]

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
