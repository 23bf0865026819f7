"""Migrations: applied once, safe to run again, the one schema matches what they create, and a database made
by the previous layout's code upgrades in place."""

import gzip
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from central_server.db.engine import make_engine
from central_server.db.migrate import MIGRATIONS, migrate
from central_server.db.schema import api_tokens, metadata, record_times, records
from central_server.ingest.records import ingest_payload
from hajiri_wire import DeviceKey, UnsignedRecord, encode_batch, sign_record, topics
from hajiri_wire.ids import uuid7
from hajiri_wire.messages import RecordBatch
from tests.builders import pg_database


def _check_schema(engine: sa.Engine) -> None:
    """The one schema (central_server.db.schema) matches the migrated database: tables and columns."""
    inspector = sa.inspect(engine)
    migrated = set(inspector.get_table_names()) - {"schema_migrations"}
    assert migrated - set(metadata.tables) == set(), "tables missing from central_server/db/schema.py"
    assert set(metadata.tables) - migrated == set(), "tables in schema.py that no migration creates"
    for table in metadata.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert columns == set(table.columns.keys()), f"{table.name}: migration and schema.py disagree"
    uniques = inspector.get_unique_constraints("records")
    assert any(set(u["column_names"]) == {"device_id", "seq"} for u in uniques)


def test_sqlite_migrations_are_idempotent_and_wal_with_foreign_keys(sqlite_url):
    engine = make_engine(sqlite_url)
    assert migrate(engine) == [m.version for m in MIGRATIONS]
    assert migrate(engine) == []
    assert migrate(make_engine(sqlite_url)) == []  # a second server process
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM schema_migrations").scalar_one() == len(MIGRATIONS)
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    _check_schema(engine)


def test_postgresql_migrations_are_idempotent(pg_engine):
    assert migrate(pg_engine) == []  # the session fixture already migrated this database
    with pg_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT max(version) FROM schema_migrations")).scalar_one() == MIGRATIONS[-1].version
    _check_schema(pg_engine)


def test_a_failing_migration_leaves_nothing_half_done(sqlite_url, monkeypatch):
    from central_server.db import migrate as migrations

    broken = migrations.Migration(2, "broken", lambda d: ["CREATE TABLE extra (x INTEGER)", "THIS IS NOT SQL"])
    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, broken))
    engine = make_engine(sqlite_url)
    try:
        migrate(engine)
    except sa.exc.DBAPIError:
        pass
    else:
        raise AssertionError("a broken migration must raise")
    names = sa.inspect(engine).get_table_names()
    assert "extra" not in names and "records" not in names  # all rolled back, migration 1 included


# Databases written by the code before the feature packages (commit f21bafe), at schema v8 and v9, with a site, a
# person, a kiosk, an admin token and three ingested records (the third unsynced). Remade by make_main_dumps.py.
FIXTURES = Path(__file__).parent / "fixtures"
OLD_COMMIT = "f21bafe"
FIXTURE_KEY = DeviceKey(Ed25519PrivateKey.from_private_bytes(bytes(range(32))))


def _dump(name: str) -> str:
    return gzip.decompress((FIXTURES / name).read_bytes()).decode()


def _kept_and_still_ingests(engine: sa.Engine) -> None:
    """The old rows are all there, and the next record of the old chain is stored and links."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(records.c.seq, records.c.hash, records.c.chain_ok)
                            .order_by(records.c.seq)).all()
        assert [(r.seq, r.chain_ok) for r in rows] == [(1, True), (2, True), (3, True)]
        assert conn.execute(sa.select(sa.func.count()).select_from(record_times)).scalar_one() == 1
        assert conn.execute(sa.select(sa.func.count()).select_from(api_tokens)).scalar_one() == 1
    body = UnsignedRecord(record_id=uuid7(), device_id="kiosk-01", site_id="office-1", seq=4, person_id="emp-1",
                          event="OUT", wall_time="2026-11-25T17:00:00.000Z", boot_id="boot-a", mono_ns=4 * 10**9,
                          clock_synced=True, match_score=0.7, liveness_score=0.9, model_version="sface-2021dec",
                          prev_hash=rows[-1].hash)
    batch = RecordBatch(device_id="kiosk-01", records=[sign_record(body, FIXTURE_KEY)])
    outcome = ingest_payload(engine, topics.records("kiosk-01"), encode_batch(batch))
    assert outcome.statuses() == ["stored"]
    with engine.connect() as conn:
        assert conn.execute(sa.select(records.c.chain_ok).where(records.c.seq == 4)).scalar_one() is True


@pytest.mark.parametrize("version", [8, 9])
def test_a_sqlite_database_of_the_old_layout_upgrades_in_place(tmp_path, version):
    path = tmp_path / "old.db"
    con = sqlite3.connect(path)
    con.executescript(_dump(f"main_{OLD_COMMIT}_v{version}.sqlite.sql.gz"))
    con.close()
    engine = make_engine(f"sqlite:///{path}")
    assert migrate(engine) == [m.version for m in MIGRATIONS if m.version > version]
    _check_schema(engine)
    _kept_and_still_ingests(engine)


@pytest.fixture
def empty_pg_url() -> Iterator[str]:
    with pg_database("hajiri_upgrade") as url:
        yield url


@pytest.mark.parametrize("version", [8, 9])
def test_a_postgresql_database_of_the_old_layout_upgrades_in_place(empty_pg_url, version):
    import psycopg

    dump = _dump(f"main_{OLD_COMMIT}_v{version}.pg.sql.gz")
    # psql meta-commands (\restrict) are not SQL; the rest is plain statements and INSERTs.
    sql = "\n".join(line for line in dump.splitlines() if not line.startswith("\\"))
    with psycopg.connect(empty_pg_url, autocommit=True) as conn:  # its own session: the dump empties search_path
        conn.execute(sql)
    engine = make_engine(empty_pg_url)
    try:
        assert migrate(engine) == [m.version for m in MIGRATIONS if m.version > version]
        _check_schema(engine)
        _kept_and_still_ingests(engine)
    finally:
        engine.dispose()
