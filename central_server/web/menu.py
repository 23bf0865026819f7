"""The left menu of each role: where a person goes to do their job (labels are catalog msgids)."""

from dataclasses import dataclass

from central_server.access.tokens import Principal, Role
from central_server.web.i18n import N_


@dataclass(frozen=True)
class MenuItem:
    url: str
    label: str


def home_url(p: Principal) -> str:
    """Each role's home page: what they need in the first five seconds (ui.md)."""
    if p.role is Role.EMPLOYEE and p.employee_id:
        return f"/employees/{p.employee_id}"
    if p.role is Role.WARDEN and p.site_id:
        return f"/rollcall/{p.site_id}"
    if p.role is Role.OFFICE_HEAD and p.site_id:
        return f"/sites/{p.site_id}"
    if p.role is Role.DISTRICT_OFFICER and p.district:
        return f"/districts/{p.district}"
    if p.role is Role.IT_STAFF:
        return "/kiosks"
    return "/state"


def menu_for(p: Principal) -> list[MenuItem]:
    """The pages a role uses, in the order they use them."""
    site = p.site_id
    if p.role is Role.EMPLOYEE:
        return [MenuItem(home_url(p), N_("My attendance"))]
    if p.role is Role.WARDEN:
        return [MenuItem(f"/rollcall/{site}", N_("Roll-call")), MenuItem(f"/sites/{site}", N_("Presence")),
                MenuItem("/review", N_("Review")), MenuItem("/reports", N_("Reports"))]
    if p.role is Role.OFFICE_HEAD:
        return [MenuItem(f"/sites/{site}", N_("Presence")), MenuItem("/review", N_("Review")),
                MenuItem("/reports", N_("Reports")), MenuItem("/month-close", N_("Month close")),
                MenuItem(f"/sites/{site}/map", N_("Map"))]
    if p.role is Role.DISTRICT_OFFICER:
        return [MenuItem(home_url(p), N_("District")), MenuItem("/sites", N_("Offices")),
                MenuItem("/reports", N_("Reports"))]
    if p.role is Role.IT_STAFF:
        return [MenuItem("/kiosks", N_("Kiosks")), MenuItem("/sites", N_("Offices"))]
    return [MenuItem("/state", N_("State")), MenuItem("/sites", N_("Offices")),
            MenuItem("/review", N_("Review")), MenuItem("/reports", N_("Reports")),
            MenuItem("/month-close", N_("Month close")), MenuItem("/kiosks", N_("Kiosks"))]
