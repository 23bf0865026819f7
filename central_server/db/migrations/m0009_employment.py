"""Schema v9 (employment): when each employee joined and left, so days outside it are not counted as absent.

Frozen once released. Both columns are local calendar days (YYYY-MM-DD); NULL means "since always" / "still
here", which is what every employee registered before this migration gets.
"""


def m0009_employment(dialect: str) -> list[str]:
    return [
        "ALTER TABLE employees ADD COLUMN joined_on TEXT",
        "ALTER TABLE employees ADD COLUMN left_on TEXT",
    ]
