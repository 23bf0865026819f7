"""The database engine: SQLite (WAL, synchronous=FULL, BEGIN IMMEDIATE) or PostgreSQL, from one URL."""

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from central_server.config import sqlalchemy_url
from hajiri_common.files import make_private_dir, precreate_private


def _sqlite_on_connect(dbapi_conn, _record) -> None:
    # Let SQLAlchemy's "begin" hook issue BEGIN itself, so DDL (migrations) is transactional too.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_on_begin(conn: sa.Connection) -> None:
    # IMMEDIATE takes the write lock up front: two writers wait (busy_timeout) instead of failing mid-way.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(database_url: str) -> Engine:
    """An engine for sqlite:///path or postgresql://...; a new SQLite file (0600) and its folder (0700) are
    created owner-only."""
    url = sa.make_url(sqlalchemy_url(database_url))
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            raise ValueError("an in-memory SQLite database would vanish on restart; give a file path")
        make_private_dir(Path(url.database).parent)
        precreate_private(Path(url.database))  # SQLite gives -wal and -shm the main file's mode
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_on_connect)
        sa.event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)
