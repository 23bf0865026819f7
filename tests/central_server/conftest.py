"""Central-server fixtures: SQLite and PostgreSQL engines, signed record chains, API clients, tokens."""

import secrets
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
from tests.builders import Kiosk, bearer, pg_database


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL database of its own for this test session, dropped afterwards (skip when no server)."""
    with pg_database("hajiri_test") as url:
        yield url


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


@pytest.fixture
def auth() -> Callable[[str], dict[str, str]]:
    return bearer


@pytest.fixture
def random_token() -> str:
    return secrets.token_urlsafe(32)
