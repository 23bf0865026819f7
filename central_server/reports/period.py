"""Report periods and scopes: a month (capped at today), a day, and which offices a report covers."""

import re
from dataclasses import dataclass
from datetime import date, timedelta

from central_server.errors import Invalid

_MONTH = re.compile(r"(\d{4})-(\d{2})")


class ReportInputError(Invalid):
    """A report parameter that cannot be used; the message starts with the parameter's name."""


@dataclass(frozen=True)
class Period:
    """Local calendar days first..last, both included."""

    first: date
    last: date

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    @property
    def label(self) -> str:
        return f"{self.first.isoformat()} to {self.last.isoformat()}"


def month_period(month: str, today: date) -> Period:
    """YYYY-MM as its days; the current month runs to today (days to come cannot be reported yet)."""
    m = _MONTH.fullmatch(month or "")
    if m is None or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1:
        raise ReportInputError(f"month: {month!r} is not a month in the form YYYY-MM (e.g. 2026-10)")
    first = date(int(m.group(1)), int(m.group(2)), 1)
    if first > today:
        raise ReportInputError(f"month: {month} has not begun yet (today is {today.isoformat()})")
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return Period(first, min(following - timedelta(days=1), today))


def day_period(day: date, today: date) -> Period:
    if day > today:
        raise ReportInputError(f"day: {day.isoformat()} is in the future (today is {today.isoformat()})")
    return Period(day, day)


@dataclass(frozen=True)
class ReportScope:
    """Which employees a report covers: one office, one district (case and outer spaces ignored), one employee,
    and/or a set of offices (a caller's visible sites); all None is everyone."""

    site_id: str | None = None
    district: str | None = None
    employee_id: str | None = None
    site_ids: frozenset[str] | None = None

    @property
    def label(self) -> str:
        parts = [f"office {self.site_id}" if self.site_id else "",
                 f"district {self.district}" if self.district else "",
                 f"employee {self.employee_id}" if self.employee_id else ""]
        if not any(parts) and self.site_ids is not None:
            parts = [f"office {min(self.site_ids)}" if len(self.site_ids) == 1 else f"{len(self.site_ids)} offices"]
        return ", ".join(p for p in parts if p) or "all offices"

    @property
    def file_label(self) -> str:
        """A short name for file names: the employee, office or district, else 'all'."""
        if self.site_ids is not None and len(self.site_ids) == 1 and not self.employee_id:
            return min(self.site_ids)
        return self.employee_id or self.site_id or self.district or ("offices" if self.site_ids else "all")
