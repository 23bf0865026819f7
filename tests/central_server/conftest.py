"""Central-server fixtures: SQLite and PostgreSQL engines, signed record chains, API clients, tokens."""

import secrets
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from central_server.access.tokens import Role, create_token
from central_server.config import ServerConfig
from central_server.db.engine import make_engine
from central_server.db.migrate import migrate
from central_server.db.schema import metadata  # every table, so the PostgreSQL clean-up empties them all
from central_server.devices.registry import register_device
from central_server.org.sites import create_site
from hajiri_wire import GENESIS_HASH, AttendanceRecord, DeviceKey, UnsignedRecord, record_hash, sign_record
from hajiri_wire.ids import uuid7

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
DAY = "2026-11-25"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL database of its own for this test session, dropped afterwards (skip when no server)."""
    try:
        import psycopg

        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except Exception as e:  # no server, no role, no psycopg: all mean "cannot test PostgreSQL here"
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {e}")
    name = f"hajiri_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def pg_engine(pg_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(pg_url)
    migrate(engine)
    yield engine
    engine.dispose()


def _empty_tables(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'central.db'}"


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(sqlite_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> sa.Engine:
    """The same test on a fresh SQLite file and on (emptied) PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_engine")
    pg = request.getfixturevalue("pg_engine")
    _empty_tables(pg)
    return pg


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


@pytest.fixture
def new_kiosk() -> Callable[..., Kiosk]:
    return Kiosk


def register(engine: sa.Engine, kiosk: Kiosk) -> None:
    with engine.begin() as conn:
        register_device(conn, kiosk.device_id, kiosk.site_id, kiosk.key.public_b64, actor="test",
                        create_missing_site=True)


@pytest.fixture
def registered(engine: sa.Engine) -> Kiosk:
    """kiosk-01 at office-1, registered on `engine`."""
    kiosk = Kiosk()
    register(engine, kiosk)
    return kiosk


@pytest.fixture
def register_kiosk() -> Callable[[sa.Engine, Kiosk], None]:
    return register


@pytest.fixture
def config(sqlite_url: str) -> ServerConfig:
    return ServerConfig(database_url=sqlite_url, timezone="UTC")


@pytest.fixture
def tokens(sqlite_engine: sa.Engine) -> dict[str, str]:
    """One token per role used so far (office_head scoped to office-1) on the SQLite DB."""
    with sqlite_engine.begin() as conn:
        create_site(conn, "office-1", "Block Office One", "office", actor="test")
        create_site(conn, "office-2", "Block Office Two", "office", actor="test")
        return {
            "admin": create_token(conn, Role.STATE_ADMIN, "admin"),
            "it": create_token(conn, Role.IT_STAFF, "it desk"),
            "head": create_token(conn, Role.OFFICE_HEAD, "head of office-1", "office-1"),
            "employee": create_token(conn, Role.EMPLOYEE, "an employee", "office-1"),
        }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth() -> Callable[[str], dict[str, str]]:
    return bearer


@pytest.fixture
def random_token() -> str:
    return secrets.token_urlsafe(32)
