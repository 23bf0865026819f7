"""What the presence board, the employee page and the roll-call share: now (the app's clock, settable in tests),
the ?day= / ?month= / ?refresh= parameters checked with a message in the user's language, and flags and event
kinds in plain words (catalog msgids)."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import Request

from central_server.api.deps import request_clock
from central_server.errors import Invalid
from central_server.web.i18n import N_

FIRST_DAY = date(2000, 1, 1)  # nothing before Hajiri's era is worth a page; a typo like 0202 is caught
REFRESH_RANGE = (2, 60)  # seconds between live refreshes a page accepts from ?refresh=

# Flags in plain words (for people, not codes). Unknown codes show as the code with spaces.
FLAG_LABELS = {
    "outside_fence": N_("outside office area"),
    "no_geofence": N_("no office area set"),
    "queued_offline": N_("queued offline"),
    "device_clock_skew": N_("phone clock wrong"),
    "accuracy_too_poor": N_("location not precise"),
    "mock_location": N_("fake location suspected"),
    "impossible_travel": N_("too far to travel in time"),
    "selfie_mismatch": N_("selfie did not match"),
    "selfie_spoof": N_("selfie looked like a photo"),
    "selfie_reused": N_("same selfie sent again"),
    "selfie_unverified": N_("selfie not checked"),
    "selfie_no_face": N_("no face in selfie"),
    "selfie_many_faces": N_("several faces in selfie"),
    "no_templates": N_("no enrolled face to compare"),
    "kiosk_time_corrected": N_("kiosk clock corrected"),
    "kiosk_clock_unsynced": N_("kiosk clock not synced"),
    "kiosk_chain_issue": N_("kiosk record out of sequence"),
    "mobile_event_not_counted": N_("check-in not counted"),
    "kiosk_event_not_counted": N_("kiosk entry not counted"),
    "early_exit": N_("left early"),
    "missing_out": N_("no OUT"),
    "missing_in": N_("no IN"),
    "worked_on_day_off": N_("worked on a day off"),
    "attended_on_leave": N_("came in while on leave"),
    "half_day_leave": N_("half-day leave"),
    "half_day_leave_other_half_absent": N_("other half absent"),
    "too_short": N_("too few hours"),
}
# Flags that only say what happened: a day with no other flag is not "flagged, waiting for review" (ui.md).
INFORMATIONAL = frozenset({"half_day_leave", "kiosk_time_corrected"})
KIND_LABELS = {"IN": N_("IN"), "OUT": N_("OUT"), "UNKNOWN": N_("unknown face"), "SPOOF": N_("spoof attempt")}
SOURCE_LABELS = {"kiosk": N_("kiosk"), "mobile": N_("mobile")}
REASON_LABELS = {"late": N_("Late arrival"), "absent": N_("Absence"), "outside_fence": N_("Check-in outside office area")}
LEAVE_KINDS = {"casual": N_("Casual leave"), "earned": N_("Earned leave"), "medical": N_("Medical leave"),
               "half_day": N_("Half-day leave"), "other": N_("Other leave")}
THREAD_STATES = {"open": N_("explanation requested"), "replied": N_("replied, waiting for decision"),
                 "accepted": N_("accepted"), "rejected": N_("not accepted"), "withdrawn": N_("withdrawn: no longer applies")}


def flag_label(code: str) -> str:
    return FLAG_LABELS.get(code, code.replace("_", " "))


def needs_review(flags: list[str] | tuple[str, ...]) -> bool:
    """A day or event with a flag beyond the informational ones: shown dashed (ui.md)."""
    return any(f not in INFORMATIONAL for f in flags)


def template_helpers() -> dict:
    """What the board, employee and roll-call templates use besides page_context's."""
    return {"flag_label": flag_label, "needs_review": needs_review, "kind_labels": KIND_LABELS,
            "source_labels": SOURCE_LABELS, "reason_labels": REASON_LABELS, "thread_states": THREAD_STATES,
            "leave_kinds": LEAVE_KINDS}


def page_now(request: Request) -> datetime:
    """Now, as the app's clock says (tests set app.state.clock instead of sleeping)."""
    return datetime.fromtimestamp(request_clock(request), UTC)


def local_today(request: Request) -> date:
    return page_now(request).astimezone(ZoneInfo(request.app.state.config.timezone)).date()


@dataclass(frozen=True)
class Choice:
    """A checked page parameter: the value to use, or the error to show beside its field (and the raw text)."""

    value: object
    raw: str
    error: str | None = None


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def choose_day(raw: str | None, today: date, _: Callable[[str], str], default: date | None = None) -> Choice:
    """?day=YYYY-MM-DD, bounded: not in the future and not before 2000 (default: `default` or today)."""
    if raw is None or raw.strip() == "":
        return Choice(default or today, "")
    raw = raw.strip()[:40]
    try:
        day = date.fromisoformat(raw) if _DAY.fullmatch(raw) else None
    except ValueError:
        return Choice(None, raw, _("%(v)s is not a calendar date.") % {"v": raw})
    if day is None:
        return Choice(None, raw, _("Write the day as YYYY-MM-DD, for example %(e)s.") % {"e": today.isoformat()})
    if day > today:
        return Choice(None, raw, _("%(v)s is in the future; choose today or an earlier day.") % {"v": raw})
    if day < FIRST_DAY:
        return Choice(None, raw, _("Choose a day from 2000-01-01 on."))
    return Choice(day, raw)


def choose_month(raw: str | None, today: date, _: Callable[[str], str]) -> Choice:
    """?month=YYYY-MM, bounded like a day: its first day (default: this month's)."""
    if raw is None or raw.strip() == "":
        return Choice(today.replace(day=1), "")
    raw = raw.strip()[:40]
    m = _MONTH.fullmatch(raw)
    if m is None or not 1 <= int(m.group(2)) <= 12:
        return Choice(None, raw, _("Write the month as YYYY-MM, for example %(e)s.") % {"e": today.isoformat()[:7]})
    first = date(int(m.group(1)), int(m.group(2)), 1)
    if first > today:
        return Choice(None, raw, _("%(v)s has not begun yet; choose this month or an earlier one.") % {"v": raw})
    if first < FIRST_DAY:
        return Choice(None, raw, _("Choose a month from 2000-01 on."))
    return Choice(first, raw)


def month_end(first: date) -> date:
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return following - timedelta(days=1)


def choose_refresh(raw: str | None, default: int) -> int:
    """?refresh=N seconds for the live parts (tests use 2), kept within REFRESH_RANGE; anything else: default."""
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        return default
    return max(REFRESH_RANGE[0], min(REFRESH_RANGE[1], value))


def refuse(choice: Choice) -> None:
    """For the live fragments: a bad parameter is a 422 (live.js then says it is showing old data)."""
    if choice.error is not None:
        raise Invalid(choice.error)
