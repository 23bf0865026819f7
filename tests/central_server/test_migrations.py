"""Migrations: applied once, safe to run again, and the query tables match what they create."""

import sqlalchemy as sa

from central_server.db import make_engine
from central_server.migrations import MIGRATIONS, migrate
from central_server.tables import metadata


def _check_schema(engine: sa.Engine) -> None:
    """The SQLAlchemy mirrors (central_server.tables) match the migrated schema: tables and columns."""
    inspector = sa.inspect(engine)
    migrated = set(inspector.get_table_names()) - {"schema_migrations"}
    assert migrated - set(metadata.tables) == set(), "tables without a mirror (add a *_db module to tables.py)"
    assert set(metadata.tables) - migrated == set(), "mirrors of tables no migration creates"
    for table in metadata.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert columns == set(table.columns.keys()), f"{table.name}: migration and mirror disagree"
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
    from central_server import migrations

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
