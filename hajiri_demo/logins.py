"""One demo login per role, made through the server's user creation, and the ready line and table that show them."""

import secrets
from dataclasses import dataclass

from hajiri_demo.seed_org import EMPLOYEE_LOGIN, HEAD_SITE, OFFICER_DISTRICT, WARDEN_SITE, staff_of


@dataclass(frozen=True)
class Login:
    """A role's demo user; only the scope keys that apply to the role are set."""

    role: str
    username: str
    password: str
    site_id: str | None = None
    district: str | None = None
    employee_id: str | None = None

    def shown(self) -> dict:
        """As the ready line gives it: username, password and the role's scope keys."""
        keys = {"username": self.username, "password": self.password, "site_id": self.site_id,
                "district": self.district, "employee_id": self.employee_id}
        return {k: v for k, v in keys.items() if v is not None}


def planned_logins() -> list[Login]:
    """The six roles with their usernames and scopes, each with a fresh random password (demo-only accounts)."""
    employee = staff_of(EMPLOYEE_LOGIN)

    def password() -> str:
        return secrets.token_urlsafe(12)

    return [
        Login("state_admin", "state.admin", password()),
        Login("district_officer", f"do.{OFFICER_DISTRICT.lower()}", password(), district=OFFICER_DISTRICT),
        Login("office_head", f"head.{HEAD_SITE}", password(), site_id=HEAD_SITE),
        Login("warden", f"warden.{WARDEN_SITE}", password(), site_id=WARDEN_SITE),
        Login("it_staff", "it.staff", password()),
        Login("employee", employee.employee_id.lower(), password(), site_id=employee.site_id,
              employee_id=employee.employee_id),
    ]


def create_logins(demo) -> list[Login]:
    """POST /api/v1/users as the admin for each planned login; the server checks role and scope fit."""
    logins = planned_logins()
    for login in logins:
        demo.api("POST", "/api/v1/users", {"username": login.username, "password": login.password,
                                           "role": login.role, "site_id": None if login.role == "employee"
                                           else login.site_id, "district": login.district,
                                           "employee_id": login.employee_id})
    return logins


def login_url(base_url: str) -> str:
    return f"{base_url}/login"


def ready_line(base_url: str, logins: list[Login]) -> dict:
    """{"ready": true, "web": {"url": .../login, "logins": {role: {username, password, scope keys}}}}."""
    return {"ready": True, "web": {"url": login_url(base_url), "logins": {x.role: x.shown() for x in logins}}}


def scope_of(login: Login) -> str:
    """What the login sees, in words."""
    if login.employee_id is not None:
        return f"employee {login.employee_id} ({staff_of(login.employee_id).name}), site {login.site_id}"
    if login.site_id is not None:
        return f"site {login.site_id}"
    if login.district is not None:
        return f"district {login.district}"
    return "all sites"


def logins_table(base_url: str, logins: list[Login]) -> str:
    """The URL and a plain-text table of the logins, for a person at the terminal."""
    rows = [("role", "username", "password", "scope")]
    for x in logins:
        rows.append((x.role, x.username, x.password, scope_of(x)))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"Office web app: {login_url(base_url)}"]
    lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(r[:3], widths, strict=True)) + "  " + r[3] for r in rows]
    return "\n".join(lines)
