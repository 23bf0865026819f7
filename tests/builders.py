"""Builders every test may use, in one place: signed record chains, wire times, throwaway PostgreSQL databases,
bearer headers. Fixtures (conftest.py) wrap these; tests never spell the wire time format themselves."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from hajiri_common.timefmt import wire_time
from hajiri_wire import GENESIS_HASH, AttendanceRecord, DeviceKey, UnsignedRecord, record_hash, sign_record
from hajiri_wire.ids import uuid7

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
DAY = "2026-11-25"
IST = "Asia/Kolkata"


def local_wire(day: date | str, hhmm: str, tz: str = IST) -> str:
    """A local clock time on `day` (in `tz`, India by default) as the wire's UTC instant."""
    return wire_time(datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=ZoneInfo(tz)))


class Kiosk:
    """A device on the test's side: its key, and the next seq / prev_hash of its chain."""

    def __init__(self, device_id: str = "kiosk-01", site_id: str = "office-1") -> None:
        self.device_id = device_id
        self.site_id = site_id
        self.key = DeviceKey.generate()
        self.seq = 0
        self.prev_hash = GENESIS_HASH

    def record(self, person_id: str | None = "emp-1", event: str = "IN", wall_time: str = f"{DAY}T09:00:00.000Z",
               *, prev_hash: str | None = None, seq: int | None = None) -> AttendanceRecord:
        """The next signed link (or one with a forced seq / prev_hash, still validly signed)."""
        self.seq = self.seq + 1 if seq is None else seq
        body = UnsignedRecord(
            record_id=uuid7(), device_id=self.device_id, site_id=self.site_id, seq=self.seq, person_id=person_id,
            event=event, wall_time=wall_time, boot_id="boot-a", mono_ns=self.seq * 1_000_000,
            clock_synced=True, match_score=0.72 if person_id else None, liveness_score=0.9,
            model_version="sface-2021dec", prev_hash=self.prev_hash if prev_hash is None else prev_hash)
        rec = sign_record(body, self.key)
        self.prev_hash = record_hash(rec)
        return rec


@contextmanager
def pg_database(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database's URL, dropped afterwards; skips the test when no server answers."""
    try:
        import psycopg

        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except Exception as e:  # no server, no role, no psycopg: all mean "cannot test PostgreSQL here"
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {e}")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
