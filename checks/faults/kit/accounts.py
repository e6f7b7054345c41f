"""Users and entries of the API as the fault tests make them."""

from __future__ import annotations

import datetime as _dt
import random
import uuid

from harness.api import log_in, register

PASSWORD = "fault-test-password"


class User:
    def __init__(self, email, password, token, id_):
        self.email = email
        self.password = password
        self.token = token
        self.id = id_


def new_user(base, prefix="faults", password=PASSWORD) -> User:
    email = f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"
    user_id = register(base, email, password, "Fault Test")
    return User(email, password, log_in(base, email, password), user_id)


def entry_body(note: str, day_offset: int | None = None) -> dict:
    offset = random.randint(0, 300) if day_offset is None else day_offset
    day = (_dt.datetime.now(_dt.timezone.utc).date() - _dt.timedelta(days=offset)).isoformat()
    return {"weight": round(random.uniform(50, 120), 2), "unit": "kg", "recorded_on": day, "note": note}
