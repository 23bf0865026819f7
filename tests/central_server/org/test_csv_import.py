"""CSV import of sites and employees (SQLite and PostgreSQL): all rows or none, errors by row and column."""

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from central_server.access.tokens import Role, create_token
from central_server.app import create_app
from central_server.config import ServerConfig
from central_server.db.schema import employees, people, site_details, sites
from central_server.org.employees import create_shift
from central_server.org.sites import create_site

SITES_CSV = """site_id,name,kind,district,lat,lon
office-7,Block Office Khurda,office,Khurda,20.18,85.62
hostel-7,"Girls' Hostel, Khurda",hostel,Khurda,,
"""

EMPLOYEES_CSV = """\ufeffemployee_id,name,role,site_id,shift_id,mobile
e-100,Asha Das,staff,office-7,office,+919876543210
e-101,Bina Rout,field_staff,office-7,,9876543211

e-102,Chitra,resident,hostel-7,,
"""


@pytest.fixture
def client(engine):
    with engine.begin() as conn:
        create_site(conn, "office-1", "Existing", "office", actor="test")
        create_shift(conn, {"shift_id": "office", "name": "Office", "start_time": "10:00", "end_time": "17:30",
                            "grace_late_min": 10, "grace_early_min": 10, "half_day_hours": 4.0, "absent_hours": 2.0,
                            "overnight": False, "weekly_off": ["sun"]}, actor="test")
        tokens = {"admin": create_token(conn, Role.STATE_ADMIN, "admin"),
                  "head": create_token(conn, Role.OFFICE_HEAD, "head", "office-1")}
    app = create_app(ServerConfig(database_url="sqlite:///unused.db"), engine=engine, start_ingest=False)
    with TestClient(app) as c:
        c.tokens = tokens
        yield c


def upload(client, what: str, text: str | bytes, who: str = "admin"):
    data = text.encode() if isinstance(text, str) else text
    return client.post(f"/api/v1/import/{what}", content=data,
                       headers={"Authorization": f"Bearer {client.tokens[who]}", "Content-Type": "text/csv"})


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_good_files_import_everything(client, engine):
    r = upload(client, "sites", SITES_CSV)
    assert r.status_code == 200 and r.json() == {"imported": 2, "errors": []}
    with engine.connect() as conn:
        d = conn.execute(sa.select(site_details).where(site_details.c.site_id == "office-7")).one()
        kinds = dict(conn.execute(sa.select(sites.c.site_id, sites.c.kind)).all())
    assert (d.district, d.lat, d.lon) == ("Khurda", 20.18, 85.62) and kinds["hostel-7"] == "hostel"
    r = upload(client, "employees", EMPLOYEES_CSV)
    assert r.status_code == 200 and r.json()["imported"] == 3
    assert count(engine, employees) == 3 and count(engine, people) == 3  # kiosks' register knows them too


def test_one_bad_row_imports_nothing_and_every_problem_is_listed(client, engine):
    upload(client, "sites", SITES_CSV)
    before = count(engine, employees)
    bad = ("employee_id,name,site_id,mobile,shift_id\n"
           "e-1,Good Row,office-7,,\n"            # row 2: fine on its own
           "e-2,,office-7,,\n"                    # row 3: empty name
           "e-3,Bad Mobile,office-7,12ab,\n"      # row 4
           "e-4,Nowhere,office-99,,\n"            # row 5
           "e-1,Twice,office-7,,\n"               # row 6: repeats row 2
           "e-5,No Shift,office-7,,night\n"       # row 7
           "e-6,Short,office-7\n")                # row 8
    r = upload(client, "employees", bad)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert "nothing imported" in detail["message"]
    got = sorted((e["row"], e["column"]) for e in detail["errors"])
    assert got == [(3, "name"), (4, "mobile"), (5, "site_id"), (6, "employee_id"), (7, "shift_id"), (8, None)]
    assert any("repeats row 2" in e["message"] for e in detail["errors"])
    assert count(engine, employees) == before


def test_header_problems_and_encoding(client):
    r = upload(client, "employees", "employee_id,nam,site_id\ne-1,x,office-1\n")
    errors = r.json()["detail"]["errors"]
    assert r.status_code == 422 and {(e["row"], e["column"]) for e in errors} == {(1, "nam"), (1, "name")}
    r = upload(client, "employees", b"employee_id,name,site_id\n" + "e-1,Jos\xe9,office-1\n".encode("latin-1"))
    assert r.status_code == 422 and "UTF-8" in r.json()["detail"]["errors"][0]["message"]
    r = upload(client, "employees", "employee_id,name,site_id\n")
    assert r.status_code == 422 and "no rows" in r.json()["detail"]["errors"][0]["message"]


def test_site_rows_and_scoping(client, engine):
    r = upload(client, "sites", "site_id,name,kind,lat\nx-1,X,palace,20.1\noffice-1,Again,office,\n")
    got = sorted((e["row"], e["column"]) for e in r.json()["detail"]["errors"])
    assert r.status_code == 422 and got == [(2, "kind"), (3, "site_id")]
    r = upload(client, "sites", "site_id,name,lat\nx-2,X,20.1\n")
    assert r.json()["detail"]["errors"][0]["column"] == "lon"
    # An office head imports for their own office only.
    r = upload(client, "employees", "employee_id,name,site_id\nh-1,Head's,office-1\nh-2,Other,office-7\n", "head")
    errors = r.json()["detail"]["errors"]
    assert r.status_code == 422 and {(e["row"], e["column"]) for e in errors} == {(3, "site_id")}
    assert any("for site office-1 only" in e["message"] for e in errors)
    assert upload(client, "employees", "employee_id,name,site_id\nh-1,Head's,office-1\n", "head").status_code == 200


def test_sites_import_their_go_live_day(client, engine):
    r = upload(client, "sites", "site_id,name,district,go_live_on\noffice-8,Eight,Puri,2026-10-05\n"
                                "office-9,Nine,Puri,2026-10-32\noffice-10,Ten,Puri,\n")
    assert r.status_code == 422
    assert [(e["row"], e["column"]) for e in r.json()["detail"]["errors"]] == [(3, "go_live_on")]
    r = upload(client, "sites", "site_id,name,district,go_live_on\noffice-8,Eight,Puri,2026-10-05\n"
                                "office-10,Ten,Puri,\n")
    assert r.status_code == 200 and r.json()["imported"] == 2
    with engine.connect() as conn:
        got = dict(conn.execute(sa.select(site_details.c.site_id, site_details.c.go_live_on)).all())
    assert got == {"office-8": "2026-10-05", "office-10": None}
