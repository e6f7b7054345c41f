"""A user of the API: registration and log-in."""

from harness import HarnessError
from harness.http import request


def register(base: str, email: str, password: str, name: str) -> str:
    """POST /v1/users; the new user's id (HarnessError unless answered 201)."""
    r = request(base, "POST", "/v1/users", json_body={"email": email, "name": name, "password": password})
    if r.status != 201:
        raise HarnessError(f"register {email}: {r.status} {r.body[:300]!r}")
    return r.json()["id"]


def log_in(base: str, email: str, password: str) -> str:
    """POST /v1/tokens; the bearer token (HarnessError unless answered 201)."""
    r = request(base, "POST", "/v1/tokens", json_body={"email": email, "password": password})
    if r.status != 201:
        raise HarnessError(f"log-in {email}: {r.status} {r.body[:300]!r}")
    return r.json()["token"]
