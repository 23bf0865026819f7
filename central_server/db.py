"""Database engine (SQLite or PostgreSQL) and the tables as SQLAlchemy Core objects for queries."""

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from central_server.config import sqlalchemy_url

metadata = sa.MetaData()

# The schema itself is created by central_server.migrations; these mirror it for typed queries.
sites = sa.Table(
    "sites", metadata,
    sa.Column("site_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
)

people = sa.Table(
    "people", metadata,
    sa.Column("person_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("site_id", sa.Text, sa.ForeignKey("sites.site_id"), nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
)

devices = sa.Table(
    "devices", metadata,
    sa.Column("device_id", sa.Text, primary_key=True),
    sa.Column("site_id", sa.Text, sa.ForeignKey("sites.site_id"), nullable=False),
    sa.Column("public_key", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("registered_at", sa.Text, nullable=False),
)

records = sa.Table(
    "records", metadata,
    sa.Column("record_id", sa.Text, primary_key=True),
    sa.Column("device_id", sa.Text, sa.ForeignKey("devices.device_id"), nullable=False),
    sa.Column("site_id", sa.Text, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("person_id", sa.Text),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("wall_time", sa.Text, nullable=False),
    sa.Column("boot_id", sa.Text, nullable=False),
    sa.Column("mono_ns", sa.BigInteger, nullable=False),
    sa.Column("clock_synced", sa.Boolean, nullable=False),
    sa.Column("match_score", sa.Float),
    sa.Column("liveness_score", sa.Float),
    sa.Column("model_version", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.Text, nullable=False),
    sa.Column("hash", sa.Text, nullable=False),
    sa.Column("sig", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("received_at", sa.Text, nullable=False),
    sa.Column("chain_ok", sa.Boolean),
    sa.Column("chain_note", sa.Text),
)

rejections = sa.Table(
    "rejections", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("received_at", sa.Text, nullable=False),
    sa.Column("device_id", sa.Text),
    sa.Column("record_id", sa.Text),
    sa.Column("topic", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("payload_sha256", sa.Text, nullable=False),
    sa.Column("payload_excerpt", sa.Text, nullable=False),
)

api_tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("token_sha256", sa.Text, primary_key=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("site_id", sa.Text),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("revoked", sa.Boolean, nullable=False),
)

audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
)


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
    """An engine for sqlite:///path or postgresql://...; a SQLite file's folder is created if missing."""
    url = sa.make_url(sqlalchemy_url(database_url))
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            raise ValueError("an in-memory SQLite database would vanish on restart; give a file path")
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_on_connect)
        sa.event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)
