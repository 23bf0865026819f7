"""INSERT ... ON CONFLICT for SQLite and PostgreSQL alike (both speak it; SQLAlchemy spells it per dialect)."""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite


def insert_on_conflict(conn: sa.Connection, table: sa.Table, rows: list[dict], keys: list[str],
                       *, update: bool) -> int:
    """Insert rows; on a clash of `keys` replace the other columns (update=True) or keep the old row.
    Returns the rows inserted or updated (with update=False: the rows that were new)."""
    if not rows:
        return 0
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    if update:
        changed = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
        stmt = stmt.on_conflict_do_update(index_elements=keys, set_=changed)
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=keys)
    # executemany: one compiled statement, batched by the driver (no giant VALUES list to compile).
    result = conn.execute(stmt, rows) if len(rows) > 1 else conn.execute(stmt.values(rows[0]))
    return result.rowcount
