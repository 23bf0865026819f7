"""PUT /api/v1/sites/{site_id}/details with the go-live day (SQLite and PostgreSQL): validated, kept when left
out, refused across a closed month, and the stored days it moves over recomputed (their requests withdrawn)."""

from datetime import date

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from central_server.access.tokens import Role, create_token
from central_server.app import create_app
from central_server.attendance.rules.recompute import recompute_days
from central_server.config import ServerConfig
from central_server.db.schema import attendance_days, explanations, month_closes
from central_server.org.sites import create_site
from tests.central_server.closing.months import TZ, seed_october


@pytest.fixture
def client(engine, registered):
    seed_october(engine, registered)
    with engine.begin() as conn:
        # Days 5..9 October are stored absent, each with an open request.
        recompute_days(conn, None, [date(2026, 10, d) for d in range(5, 10)], TZ)
        create_site(conn, "office-2", "Office Two", "office", actor="test")
        tokens = {"it": create_token(conn, Role.IT_STAFF, "it desk"),
                  "admin": create_token(conn, Role.STATE_ADMIN, "state admin"),
                  "head": create_token(conn, Role.OFFICE_HEAD, "head", "office-1"),
                  "head-2": create_token(conn, Role.OFFICE_HEAD, "head 2", "office-2")}
    app = create_app(ServerConfig(database_url="sqlite:///unused.db", timezone=TZ), engine=engine, start_ingest=False)
    with TestClient(app) as c:
        c.tokens = tokens
        yield c


def put(client, who: str, body: dict):
    return client.put("/api/v1/sites/office-1/details", json=body,
                      headers={"Authorization": f"Bearer {client.tokens[who]}"})


def days(engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(attendance_days.c.day, attendance_days.c.status).where(
            attendance_days.c.employee_id == "emp-2")).all())


def open_requests(engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(sa.select(explanations.c.day).where(
            explanations.c.employee_id == "emp-2", explanations.c.status == "open")).scalars())


def test_setting_go_live_recomputes_the_days_before_it(client, engine):
    assert open_requests(engine) == [f"2026-10-0{d}" for d in range(5, 10)]
    r = put(client, "admin", {"district": "North", "go_live_on": "2026-10-08"})
    assert r.status_code == 200 and r.json()["go_live_on"] == "2026-10-08"
    assert {d: s for d, s in days(engine).items()} == {"2026-10-05": "not_live", "2026-10-06": "not_live",
                                                      "2026-10-07": "not_live", "2026-10-08": "absent",
                                                      "2026-10-09": "absent"}
    assert open_requests(engine) == ["2026-10-08", "2026-10-09"]  # the rest withdrawn
    # Another change of the details leaves the go-live day (and the district, left out) as they are.
    r = put(client, "head", {"curfew": "21:00"})
    assert r.status_code == 200 and r.json()["go_live_on"] == "2026-10-08" and r.json()["district"] == "North"
    # Only the state admin moves the office to another district.
    assert put(client, "head", {"district": "North East"}).status_code == 403
    assert put(client, "it", {"district": "North East"}).status_code == 403
    # Moved earlier: the days between are judged again.
    assert put(client, "head", {"go_live_on": "2026-10-06"}).json()["go_live_on"] == "2026-10-06"
    assert days(engine)["2026-10-06"] == "absent" and days(engine)["2026-10-05"] == "not_live"


def test_a_bad_or_late_go_live_day_is_refused(client, engine):
    r = put(client, "it", {"go_live_on": "2026-02-30"})
    assert r.status_code == 422 and "go_live_on" in r.text
    assert put(client, "head-2", {"go_live_on": "2026-10-08"}).status_code == 403
    with engine.begin() as conn:
        conn.execute(sa.insert(month_closes).values(site_id="office-1", month="2026-10", closed_at="x",
                                                    closed_by="head", reason="paid"))
    r = put(client, "it", {"go_live_on": "2026-10-08"})
    assert r.status_code == 409 and "closed month(s) 2026-10" in r.text
    assert days(engine)["2026-10-05"] == "absent"
