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


def history_csv(tag: str, rows: int, pad: int = 0, bad_row: int | None = None) -> bytes:
    """An import body: a CSV of `rows` valid entries (one a day going back, 3,650 days round), each note
    `<pad characters of filler> tag-<row>` (distinct, so the database tells which import stored what; with `pad`
    64, 100,000 rows make 9.1 MiB, near the 10 MiB an import may have); row `bad_row` (1-based) gets an impossible
    date."""
    today = _dt.datetime.now(_dt.timezone.utc).date()
    days = [(today - _dt.timedelta(days=d)).isoformat() for d in range(3650)]
    filler = ("weighed after breakfast and a walk " * (pad // 30 + 1))[:pad - 1] + " " if pad else ""
    lines = ["recorded_on,weight,unit,note"]
    for i in range(1, rows + 1):
        day = "2021-02-30" if i == bad_row else days[i % 3650]
        lines.append(f"{day},{50 + (i % 5000) / 100:.2f},kg,{filler}{tag}-{i:06d}")
    return ("\r\n".join(lines) + "\r\n").encode()
