"""A small office world for the web tests: three sites in two districts (one a hostel), Hindi and English
names, a shift, one login per role, and helpers to sign in and to feed signed kiosk records."""

import re
from dataclasses import dataclass

import sqlalchemy as sa
from fastapi.testclient import TestClient

from central_server.access.users import create_user
from central_server.devices.registry import register_device
from central_server.ingest.records import ingest_payload
from central_server.org.employees import (
    add_geofence,
    create_department,
    create_employee,
    create_shift,
    set_site_details,
)
from central_server.org.sites import create_site
from central_server.web.session import csrf_for
from hajiri_wire import RecordBatch, encode_batch, topics
from tests.builders import Kiosk

PASSWORD = "correct horse battery"
HINDI_NAME = "सुनीता वर्मा"

SITES = (("office-1", "जिला शिक्षा कार्यालय, सीहोर", "office", "Sehore"),
         ("office-2", "Collectorate Raisen", "office", "Raisen"),
         ("hostel-1", "कन्या छात्रावास, सीहोर", "hostel", "Sehore"))
EMPLOYEES = (("emp-1", HINDI_NAME, "office-1"), ("emp-2", "Rajesh Kumar", "office-1"),
             ("emp-3", "क्षितिज त्रिपाठी", "office-1"), ("emp-21", "Meena Yadav", "office-2"),
             ("res-1", "पूजा सिंह", "hostel-1"), ("res-2", "Kavita Rao", "hostel-1"))
# username -> (role, site_id, district, employee_id)
LOGINS = {
    "admin": ("state_admin", None, None, None),
    "do-sehore": ("district_officer", None, "Sehore", None),
    "head-1": ("office_head", "office-1", None, None),
    "head-2": ("office_head", "office-2", None, None),
    "warden-1": ("warden", "hostel-1", None, None),
    "it-1": ("it_staff", None, None, None),
    "emp-1": ("employee", "office-1", None, "emp-1"),
    "emp-2": ("employee", "office-1", None, "emp-2"),
}
OFFICE_FENCE = [[77.080, 23.200], [77.090, 23.200], [77.090, 23.210], [77.080, 23.210], [77.080, 23.200]]


def seed_world(conn: sa.Connection) -> None:
    """Sites, a department, the office shift (10:00–17:30, Sundays off), employees, a fence, the logins."""
    create_department(conn, "edu", "शिक्षा विभाग", actor="test")
    for site_id, name, kind, district in SITES:
        create_site(conn, site_id, name, kind, actor="test")
        set_site_details(conn, site_id, {"department_id": "edu", "district": district, "lat": 23.205,
                                         "lon": 77.085, "curfew": "20:00" if kind == "hostel" else None},
                         actor="test")
    add_geofence(conn, "office-1", "campus", {"type": "Polygon", "coordinates": [OFFICE_FENCE]}, actor="test")
    create_shift(conn, {"shift_id": "office", "name": "Office", "start_time": "10:00", "end_time": "17:30",
                        "grace_late_min": 10, "grace_early_min": 10, "half_day_hours": 4.0, "absent_hours": 2.0,
                        "overnight": False, "weekly_off": ["sun"]}, actor="test")
    for employee_id, name, site_id in EMPLOYEES:
        create_employee(conn, {"employee_id": employee_id, "name": name, "site_id": site_id, "shift_id": "office"},
                        actor="test")
    for username, (role, site_id, district, employee_id) in LOGINS.items():
        create_user(conn, username, PASSWORD, role, actor="test", site_id=site_id, district=district,
                    employee_id=employee_id)


def register_kiosk(conn: sa.Connection, device_id: str = "kiosk-01", site_id: str = "office-1") -> Kiosk:
    kiosk = Kiosk(device_id, site_id)
    register_device(conn, kiosk.device_id, kiosk.site_id, kiosk.key.public_b64, actor="test")
    return kiosk


def feed(engine: sa.Engine, kiosk: Kiosk, *records) -> None:
    """Signed records through the server's real ingest path (as the MQTT worker hands them over)."""
    outcome = ingest_payload(engine, topics.records(kiosk.device_id),
                             encode_batch(RecordBatch(device_id=kiosk.device_id, records=list(records))))
    assert outcome.stored == len(records), outcome


@dataclass
class SignedIn:
    """A TestClient with a session: `csrf` is the token its forms must carry."""

    client: TestClient
    csrf: str

    def post_form(self, url: str, data: dict, **kw):
        return self.client.post(url, data={"csrf": self.csrf, **data}, **kw)


CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> SignedIn:
    """Sign in through the login form, as a browser does (the form's CSRF token, then the session cookie)."""
    page = client.get("/login")
    token = CSRF_RE.search(page.text).group(1)
    r = client.post("/login", data={"csrf": token, "username": username, "password": password, "next": ""},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    # The forms' token is a function of the session cookie (what every page's forms carry).
    return SignedIn(client, csrf_for(client.cookies["hajiri_session"]))
