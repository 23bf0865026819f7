"""Day statuses as every screen shows them: a mark and a colour class, never colour alone (ui.md)."""

from dataclasses import dataclass

from central_server.web.i18n import N_


@dataclass(frozen=True)
class Mark:
    """The short mark, the CSS class that colours it, and the English label (translated at render)."""

    mark: str
    css: str
    label: str


# Labels are msgids of the catalog (see locale/hi); the marks are the ones the state's registers use.
MARKS: dict[str, Mark] = {
    "present": Mark("✓ P", "st-present", N_("Present")),
    "late": Mark("◔ L", "st-late", N_("Late")),
    "half_day": Mark("◑ H", "st-half", N_("Half day")),
    "absent": Mark("✗ A", "st-absent", N_("Absent")),
    "on_leave": Mark("CL", "st-leave", N_("On leave")),
    "on_tour": Mark("T", "st-tour", N_("On tour")),
    "holiday": Mark("—", "st-off", N_("Holiday")),
    "weekly_off": Mark("—", "st-off", N_("Weekly off")),
    "pending": Mark("…", "st-pending", N_("Pending")),
    "not_live": Mark("", "st-none", N_("Not on Hajiri yet")),
    "not_employed": Mark("", "st-none", N_("Not employed")),
}
UNKNOWN = Mark("?", "st-pending", N_("Unknown"))


def mark_for(status: str | None) -> Mark:
    """The mark of a status; an unknown one shows as '?' rather than breaking the page."""
    return MARKS.get(status or "", UNKNOWN)
