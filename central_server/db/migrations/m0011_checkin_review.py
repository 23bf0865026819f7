"""Schema v11 (check-in review): an office head's or warden's decision on a flagged mobile check-in, with who,
when and why. A rejected check-in no longer counts toward the day; an accepted one is vouched for as an accepted
explanation vouches (central_server.attendance.rules.timeline).

Frozen once released (a later change is a new migration)."""


def m0011_checkin_review(dialect: str) -> list[str]:
    return [
        # One decision per check-in: 'accepted' or 'rejected', never changed afterwards (the audit log has it too).
        """CREATE TABLE checkin_reviews (
            checkin_id TEXT PRIMARY KEY REFERENCES checkins (checkin_id),
            decision TEXT NOT NULL,
            reason TEXT NOT NULL,
            reviewed_by TEXT NOT NULL,
            reviewed_at TEXT NOT NULL)""",
    ]
