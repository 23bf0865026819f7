"""POST/GET /api/v1/inspections on SQLite and PostgreSQL: tours as field inspections, the repeat_village flag
counted per officer, coordinate and photo checks (422 naming the field), idempotent resends, photo privacy."""

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from central_server.access.tokens import Role, create_token
from central_server.app import create_app
from central_server.config import AccessConfig, ServerConfig
from central_server.db.schema import audit_log, inspections, tours
from central_server.org.employees import add_absence, create_employee, set_site_details
from central_server.org.sites import create_site
from hajiri_common.timefmt import wire_time

LAT, LON = 20.2961, 85.8245  # Bhubaneswar


def jpeg(side: int = 96, seed: int = 3) -> bytes:
    img = np.random.default_rng(seed).integers(0, 255, (side, side, 3), dtype=np.uint8)
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return buf.tobytes()


PHOTO = jpeg()


def iso(dt: datetime) -> str:
    return wire_time(dt.replace(microsecond=0))


NOW = datetime.now(UTC).replace(microsecond=0)


def visit(key: str, village: str = "Barang", days_ago: float = 0, **over) -> dict:
    return {"idempotency_key": key, "lat": LAT, "lon": LON, "accuracy_m": 12.0, "block": "Jatni",
            "village": village, "work_item": "MGNREGA pond", "notes": "depth checked",
            "device_time": iso(NOW - timedelta(days=days_ago)), "device_sent_time": iso(NOW),
            "photo_jpeg_b64": base64.b64encode(PHOTO).decode(), **over}


@pytest.fixture
def world(engine) -> dict:
    today = NOW.date()
    with engine.begin() as conn:
        for site, district in (("block-1", "Khurda"), ("block-2", "Cuttack")):
            create_site(conn, site, site, "field", actor="t")
            set_site_details(conn, site, {"district": district}, actor="t")
        for emp, site in (("bdo-1", "block-1"), ("bdo-2", "block-1"), ("bdo-3", "block-2")):
            create_employee(conn, {"employee_id": emp, "name": emp, "site_id": site, "role": "field_staff"},
                            actor="t")
        add_absence(conn, tours, {"employee_id": "bdo-1", "from_day": (today - timedelta(days=40)).isoformat(),
                                  "to_day": (today + timedelta(days=1)).isoformat(), "purpose": "inspections",
                                  "approved": True}, actor="t")
        t = {e: create_token(conn, Role.EMPLOYEE, e, employee_id=e) for e in ("bdo-1", "bdo-2", "bdo-3")}
        t["head-1"] = create_token(conn, Role.OFFICE_HEAD, "head 1", "block-1")
        t["do-cuttack"] = create_token(conn, Role.DISTRICT_OFFICER, "do cuttack", district="Cuttack")
        t["admin"] = create_token(conn, Role.STATE_ADMIN, "admin")
    return t


@pytest.fixture
def client(engine, world):
    config = ServerConfig(database_url="sqlite:///unused.db", timezone="Asia/Kolkata",
                          access=AccessConfig(repeat_village_visits=3, repeat_village_days=30))
    with TestClient(create_app(config, engine=engine, start_ingest=False)) as c:
        c.tokens = world
        yield c


def post(client, who, body):
    return client.post("/api/v1/inspections", json=body, headers={"Authorization": f"Bearer {client.tokens[who]}"})


def get(client, who, path="/api/v1/inspections", **params):
    return client.get(path, params=params, headers={"Authorization": f"Bearer {client.tokens[who]}"})


def test_an_inspection_is_stored_with_its_tour_and_only_the_photo_hash(client, engine):
    r = post(client, "bdo-1", visit("visit-0001"))
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["tour_id"] is not None and got["flags"] == [] and got["photo_kept"] is False
    assert got["photo_sha256"] == hashlib.sha256(PHOTO).hexdigest() and got["photo_bytes"] == len(PHOTO)
    with engine.connect() as conn:
        assert conn.execute(sa.select(inspections.c.photo)).scalar_one() is None
        assert conn.execute(sa.select(sa.func.count()).select_from(audit_log).where(
            audit_log.c.action == "inspection.create")).scalar() == 1
    r = post(client, "bdo-2", visit("visit-0002"))  # bdo-2 has no tour
    assert r.status_code == 201 and r.json()["flags"] == ["no_tour"]


def test_a_site_that_keeps_photos_keeps_them(client, engine):
    h = {"Authorization": f"Bearer {client.tokens['head-1']}"}
    assert client.put("/api/v1/inspections/settings/block-2", json={"keep_photos": True}, headers=h).status_code == 403
    assert client.put("/api/v1/inspections/settings/block-1", json={"keep_photos": True}, headers=h).status_code == 200
    assert post(client, "bdo-1", visit("visit-0003")).json()["photo_kept"] is True
    with engine.connect() as conn:
        assert bytes(conn.execute(sa.select(inspections.c.photo)).scalar_one()) == PHOTO


def test_repeat_village_flag_and_count_per_officer(client):
    # Sent today, taken days ago: queued on the phone, kept at the time taken.
    assert post(client, "bdo-2", visit("q-000001", days_ago=2)).json()["flags"] == ["no_tour", "queued_offline"]
    # Four visits to one village within 30 days: the fourth is more than 3 and is flagged.
    flags = [post(client, "bdo-1", visit(f"rep-{i:04d}", days_ago=d)).json()["flags"]
             for i, d in enumerate((20, 10, 5, 1))]
    assert [f for fs in flags for f in fs if f != "queued_offline"] == ["repeat_village"]
    assert "repeat_village" in flags[3]
    # Spelling and case do not make it another village; another block's village of the same name is another.
    assert post(client, "bdo-1", visit("rep-0005", village="  barang ")).json()["flags"] == ["repeat_village"]
    assert post(client, "bdo-1", visit("rep-0006", block="Balipatna")).json()["flags"] == []
    # An old visit outside the window does not count toward a new one.
    assert "repeat_village" not in post(client, "bdo-1", visit("rep-0007", village="Old", days_ago=35)).json()["flags"]
    for i in range(3):
        assert "repeat_village" not in post(client, "bdo-1", visit(f"old-{i:04d}", village="Old",
                                                                   days_ago=i)).json()["flags"]
    flagged = get(client, "head-1", flag="repeat_village")
    assert flagged.status_code == 200 and len(flagged.json()) == 2
    summary = get(client, "head-1", "/api/v1/inspections/officers").json()
    assert [(s["employee_id"], s["repeat_village"]) for s in summary] == [("bdo-1", 2), ("bdo-2", 0)]
    top = summary[0]["villages"][0]
    assert summary[0]["inspections"] == 10 and top["village"].lower() == "jatni / barang" and top["visits"] == 5


def test_bad_coordinates_are_refused_with_the_field_named(client):
    for bad, word in (({"lat": 91.0}, "lat"), ({"lon": -181.0}, "lon"), ({"accuracy_m": 0}, "accuracy_m"),
                      ({"lat": LON, "lon": LAT}, "swap"), ({"device_time": "2026-11-25 10:00"}, "device_time")):
        r = post(client, "bdo-1", visit("bad-00001", **bad))
        assert r.status_code == 422 and word in str(r.json()["detail"]), (bad, r.text)


def test_a_photo_that_is_not_an_image_is_refused(client, engine):
    for photo, word in ((base64.b64encode(b"%PDF-1.4 not a photo at all").decode(), "not a JPEG"),
                        ("not base64 at all!!", "base64"),
                        (base64.b64encode(PHOTO[: len(PHOTO) // 3]).decode(), "does not decode"),
                        (base64.b64encode(jpeg(side=32)).decode(), "px a side")):
        r = post(client, "bdo-1", visit("img-00001", photo_jpeg_b64=photo))
        assert r.status_code == 422 and "photo_jpeg_b64" in r.json()["detail"] and word in r.json()["detail"], r.text
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(inspections)).scalar() == 0


def test_a_resend_returns_the_first_result(client, engine):
    first = post(client, "bdo-1", visit("idem-0001"))
    again = post(client, "bdo-1", visit("idem-0001", notes="changed on the phone"))
    assert first.status_code == 201 and again.status_code == 200 and again.json()["replayed"] is True
    assert again.json()["inspection_id"] == first.json()["inspection_id"]
    assert again.json()["notes"] == "depth checked"
    # The same key from another officer is their own inspection.
    assert post(client, "bdo-2", visit("idem-0001")).status_code == 201
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(inspections)).scalar() == 2


def test_the_list_is_scoped_by_role(client):
    for who, key in (("bdo-1", "s-000001"), ("bdo-2", "s-000002"), ("bdo-3", "s-000003")):
        assert post(client, who, visit(key)).status_code == 201

    def emps(who, **params):
        r = get(client, who, **params)
        assert r.status_code == 200, r.text
        return sorted(x["employee_id"] for x in r.json())

    assert emps("bdo-1") == ["bdo-1"]
    assert get(client, "bdo-1", employee_id="bdo-2").status_code == 403
    assert emps("head-1") == ["bdo-1", "bdo-2"]
    assert get(client, "head-1", site_id="block-2").status_code == 403
    assert emps("do-cuttack") == ["bdo-3"]
    assert get(client, "do-cuttack", site_id="block-1").status_code == 403
    assert emps("admin") == ["bdo-1", "bdo-2", "bdo-3"]
    head = {"Authorization": f"Bearer {client.tokens['head-1']}"}
    assert client.post("/api/v1/inspections", json=visit("h-000001"), headers=head).status_code == 403
