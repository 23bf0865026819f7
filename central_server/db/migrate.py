"""Apply the numbered migrations (`central_server/db/migrations/`) at startup, in one transaction, recorded in
schema_migrations; on PostgreSQL under an advisory lock, so workers may start together."""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from central_server.db.migrations.m0001_initial import m0001_initial
from central_server.db.migrations.m0002_sync import m0002_sync
from central_server.db.migrations.m0003_domain import m0003_domain
from central_server.db.migrations.m0004_evidence import m0004_evidence
from central_server.db.migrations.m0005_downlink import m0005_downlink
from central_server.db.migrations.m0006_templates import m0006_templates
from central_server.db.migrations.m0007_access import m0007_access
from central_server.db.migrations.m0008_key_rotation import m0008_key_rotation
from central_server.db.migrations.m0009_employment import m0009_employment
from central_server.db.migrations.m0010_office_web import m0010_office_web
from central_server.db.migrations.m0011_checkin_review import m0011_checkin_review
from central_server.db.migrations.m0012_site_day_counts import m0012_site_day_counts
from central_server.db.migrations.m0013_token_issuer import m0013_token_issuer
from hajiri_common.timefmt import utc_iso

log = logging.getLogger(__name__)

# Any fixed number: two servers starting together on one PostgreSQL take turns at migrating.
_PG_LOCK_KEY = 0x48414A49


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: Callable[[str], list[str]]  # dialect name -> SQL statements


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema: sites, people, devices, records, rejections, api_tokens, audit_log",
              m0001_initial),
    Migration(2, "sync: device heartbeats, clock anchors, corrected record times", m0002_sync),
    Migration(3, "domain: departments, geofences, shifts, employees, leave, tours, check-ins, days", m0003_domain),
    Migration(4, "evidence: encrypted spoof evidence crops, liveness policy changes", m0004_evidence),
    Migration(5, "downlink: signed gallery, config and command versions per device", m0005_downlink),
    Migration(6, "templates: encrypted central face templates for selfie matching", m0006_templates),
    Migration(7, "access: passwords, login throttle, districts, inspections, tasks and notices", m0007_access),
    Migration(8, "key rotation: the signing keys a device held before its current one", m0008_key_rotation),
    Migration(9, "employment: joining and leaving days of employees", m0009_employment),
    Migration(10, "office web: user language, site go-live, closed months, adjustments", m0010_office_web),
    Migration(11, "check-in review: decisions on flagged mobile check-ins", m0011_checkin_review),
    Migration(12, "roll-ups: stored days per site, day and status, kept by triggers", m0012_site_day_counts),
    Migration(13, "token issuer: phone tokens die with the account that issued them", m0013_token_issuer),
)


def applied_versions(conn: sa.Connection) -> set[int]:
    return {row[0] for row in conn.execute(sa.text("SELECT version FROM schema_migrations"))}


def migrate(engine: Engine) -> list[int]:
    """Apply every migration not yet applied, all in one transaction; returns the versions applied now."""
    dialect = engine.dialect.name
    applied_now: list[int] = []
    with engine.begin() as conn:
        if dialect == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        conn.execute(sa.text(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"))
        done = applied_versions(conn)
        for m in sorted(MIGRATIONS, key=lambda m: m.version):
            if m.version in done:
                continue
            for statement in m.statements(dialect):
                conn.execute(sa.text(statement))
            conn.execute(sa.text("INSERT INTO schema_migrations (version, name, applied_at) VALUES (:v, :n, :t)"),
                         {"v": m.version, "n": m.name, "t": utc_iso(time.time())})
            applied_now.append(m.version)
    if applied_now:
        log.info("database migrated: applied %s", applied_now)
    return applied_now
