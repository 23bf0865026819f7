"""The engine: a new SQLite database, its -wal and -shm and the folder made for it are owner-only."""

import os
import stat

import sqlalchemy as sa

from central_server.db.engine import make_engine


def test_a_new_sqlite_database_and_its_folder_are_owner_only(tmp_path):
    path = tmp_path / "data" / "hajiri.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT x FROM t")).scalar() == 1
        assert (tmp_path / "data" / "hajiri.db-wal").exists()
        for name in ("hajiri.db", "hajiri.db-wal", "hajiri.db-shm"):
            assert stat.S_IMODE((tmp_path / "data" / name).stat().st_mode) == 0o600, name
    engine.dispose()
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700


def test_an_existing_database_keeps_its_mode(tmp_path):
    path = tmp_path / "old.db"
    make_engine(f"sqlite:///{path}").dispose()
    os.chmod(path, 0o640)
    make_engine(f"sqlite:///{path}").dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
