"""Schema v12 (roll-ups): attendance_site_days, how many stored attendance days each site has per local day and
working-day status, kept by triggers on attendance_days (so no writer changes) and filled from the days
already stored. The state's month roll-up sums ~27,000 of these rows instead of counting 1.5 million days.

PostgreSQL: statement-level triggers over the transition tables, each applying one statement's changes per
(site_id, day) in key order, so two writers never take the counters' row locks in opposite orders; groups whose
counts did not change (a day recomputed to the same status) are not written. SQLite: row triggers (its writers
are serialised), the update one only when status, site or day changed.

Frozen once released (a later change is a new migration)."""

# The working-day statuses counted (column = status); `days` counts every stored day, whatever its status.
COUNTED = ("present", "late", "half_day", "absent", "on_leave", "on_tour", "pending")
_COLUMNS = ("days", *COUNTED)


def m0012_site_day_counts(dialect: str) -> list[str]:
    columns = ",\n            ".join(f"{c} INTEGER NOT NULL" for c in _COLUMNS)
    table = f"""CREATE TABLE attendance_site_days (
            site_id TEXT NOT NULL,
            day TEXT NOT NULL,
            {columns},
            PRIMARY KEY (site_id, day))"""
    # The key serves a district (its sites' days); this index the whole state's days of a period.
    by_day = "CREATE INDEX ix_attendance_site_days_day ON attendance_site_days (day)"
    # The roll-up counts employees per office, shift and employment span: read from this index alone.
    employees_by_group = "CREATE INDEX ix_employees_rollup ON employees (site_id, shift_id, joined_on, left_on, active)"
    backfill = (f"INSERT INTO attendance_site_days (site_id, day, {', '.join(_COLUMNS)}) "
                f"SELECT site_id, day, {_sums('1')} FROM attendance_days GROUP BY site_id, day")
    triggers = _sqlite_triggers() if dialect == "sqlite" else _postgresql_triggers()
    return [table, by_day, employees_by_group, backfill, *triggers]


def _sums(sign: str) -> str:
    """count(*) and one sum per counted status, each row weighing `sign` (1, -1 or a column)."""
    return ", ".join([f"SUM({sign})"] + [f"SUM(CASE WHEN status = '{s}' THEN {sign} ELSE 0 END)" for s in COUNTED])


def _upsert_add() -> str:
    return ("ON CONFLICT (site_id, day) DO UPDATE SET "
            + ", ".join(f"{c} = attendance_site_days.{c} + excluded.{c}" for c in _COLUMNS))


def _sqlite_triggers() -> list[str]:
    def add(row: str) -> str:
        values = ", ".join(["1"] + [f"CASE WHEN {row}.status = '{s}' THEN 1 ELSE 0 END" for s in COUNTED])
        return (f"INSERT INTO attendance_site_days (site_id, day, {', '.join(_COLUMNS)}) "
                f"VALUES ({row}.site_id, {row}.day, {values}) {_upsert_add()};")

    subtract = ("UPDATE attendance_site_days SET days = days - 1, "
                + ", ".join(f"{s} = {s} - (CASE WHEN OLD.status = '{s}' THEN 1 ELSE 0 END)" for s in COUNTED)
                + " WHERE site_id = OLD.site_id AND day = OLD.day;")
    changed = "OLD.status IS NOT NEW.status OR OLD.site_id IS NOT NEW.site_id OR OLD.day IS NOT NEW.day"
    return [
        f"CREATE TRIGGER tr_site_days_insert AFTER INSERT ON attendance_days BEGIN {add('NEW')} END",
        f"CREATE TRIGGER tr_site_days_update AFTER UPDATE ON attendance_days WHEN {changed} "
        f"BEGIN {subtract} {add('NEW')} END",
        f"CREATE TRIGGER tr_site_days_delete AFTER DELETE ON attendance_days BEGIN {subtract} END",
    ]


def _postgresql_triggers() -> list[str]:
    insert_cols = f"site_id, day, {', '.join(_COLUMNS)}"
    # Added rows weigh +1, removed ones -1; a group whose every sum is 0 did not change and is skipped.
    unchanged = " AND ".join(f"SUM({w}) = 0" for w in
                             ["sign"] + [f"CASE WHEN status = '{s}' THEN sign ELSE 0 END" for s in COUNTED])

    def function(name: str, rows: str) -> str:
        return f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO attendance_site_days ({insert_cols})
    SELECT site_id, day, {_sums('sign')} FROM ({rows}) AS changes
    GROUP BY site_id, day HAVING NOT ({unchanged}) ORDER BY site_id, day
    {_upsert_add()};
    RETURN NULL;
END
$fn$"""

    added = "SELECT site_id, day, status, 1 AS sign FROM new_rows"
    removed = "SELECT site_id, day, status, -1 AS sign FROM old_rows"
    return [
        function("site_days_added", added),
        function("site_days_changed", f"{added} UNION ALL {removed}"),
        # Removals only lower counters that exist: a table emptied before attendance_days stays empty.
        f"""CREATE FUNCTION site_days_removed() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    UPDATE attendance_site_days AS t SET {', '.join(f"{c} = t.{c} + r.{c}" for c in _COLUMNS)}
    FROM (SELECT site_id, day, {', '.join(f"{e} AS {c}" for e, c in zip(_sums('sign').split(', '), _COLUMNS,
                                                                          strict=True))}
          FROM ({removed}) AS changes GROUP BY site_id, day) AS r
    WHERE t.site_id = r.site_id AND t.day = r.day;
    RETURN NULL;
END
$fn$""",
        "CREATE TRIGGER tr_site_days_insert AFTER INSERT ON attendance_days REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION site_days_added()",
        "CREATE TRIGGER tr_site_days_update AFTER UPDATE ON attendance_days REFERENCING OLD TABLE AS old_rows "
        "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION site_days_changed()",
        "CREATE TRIGGER tr_site_days_delete AFTER DELETE ON attendance_days REFERENCING OLD TABLE AS old_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION site_days_removed()",
    ]
