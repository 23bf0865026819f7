"""POST /api/v1/checkins on SQLite and PostgreSQL: fences, flags, idempotent resends, clock handling,
explanations for outside-fence check-ins, and 422s that name the field."""

import base64
import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from central_server.access.tokens import Role, create_token
from central_server.app import create_app
from central_server.config import ServerConfig
from central_server.db.schema import checkins
from central_server.ingest.records import ingest_payload
from central_server.org.employees import add_geofence, create_employee, set_site_details
from central_server.org.sites import create_site
from hajiri_common.timefmt import wire_time
from hajiri_wire import RecordBatch, encode_batch, topics

TZ = "Asia/Kolkata"
LON0, LAT0 = 85.8245, 20.2961  # office-1, Bhubaneswar
DELHI = (77.2090, 28.6139)  # office-2


def square(lon0: float, lat0: float, half_m: float = 100.0) -> dict:
    h = half_m / 111_195.0
    w = h / math.cos(math.radians(lat0))
    return {"type": "Polygon", "coordinates": [[[lon0 - w, lat0 - h], [lon0 + w, lat0 - h], [lon0 + w, lat0 + h],
                                                [lon0 - w, lat0 + h], [lon0 - w, lat0 - h]]]}


def jpeg_b64(side: int = 128) -> str:
    img = np.random.default_rng(7).integers(0, 255, (side, side, 3), dtype=np.uint8)
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return base64.b64encode(buf.tobytes()).decode()


SELFIE = jpeg_b64()
# The default selfie is noise: no face in it. The server says so, and that it holds no template to match.
NOISE_FLAGS = ["no_templates", "selfie_no_face"]


def iso(dt: datetime) -> str:
    return wire_time(dt)


@pytest.fixture
def world(engine) -> dict:
    """Two offices with fences, three employees, tokens; kiosk-01 at office-2 (Delhi)."""
    with engine.begin() as conn:
        create_site(conn, "office-1", "Block Office", "office", actor="test")
        create_site(conn, "office-2", "Delhi Office", "office", actor="test")
        add_geofence(conn, "office-1", "campus", square(LON0, LAT0), actor="test")
        add_geofence(conn, "office-2", "campus", square(*DELHI), actor="test")
        set_site_details(conn, "office-2", {"lat": DELHI[1], "lon": DELHI[0], "district": "New Delhi"}, actor="t")
        for emp, site in (("emp-1", "office-1"), ("emp-2", "office-1"), ("emp-3", "office-2")):
            create_employee(conn, {"employee_id": emp, "name": emp.upper(), "site_id": site}, actor="test")
        tokens = {emp: create_token(conn, Role.EMPLOYEE, emp, employee_id=emp) for emp in ("emp-1", "emp-2", "emp-3")}
        tokens["head"] = create_token(conn, Role.OFFICE_HEAD, "head 1", "office-1")
        tokens["admin"] = create_token(conn, Role.STATE_ADMIN, "admin")
        tokens["it"] = create_token(conn, Role.IT_STAFF, "it")
    return tokens


@pytest.fixture
def client(engine, world):
    app = create_app(ServerConfig(database_url="sqlite:///unused.db", timezone=TZ), engine=engine, start_ingest=False)
    with TestClient(app) as c:
        yield c


def h(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def body(**over) -> dict:
    b = {"employee_id": "emp-1", "idempotency_key": "phone-1:0001", "event": "IN", "lat": LAT0, "lon": LON0,
         "accuracy_m": 12.0, "device_time": iso(datetime.now(UTC)), "selfie_jpeg_b64": SELFIE, "app_version": "1.0.0"}
    return {**b, **over}


def post(client, world, who="emp-1", **over):
    return client.post("/api/v1/checkins", json=body(employee_id=who, **over), headers=h(world[who]))


def test_inside_the_fence_is_stored_once_and_a_resend_returns_the_same(client, world, engine):
    r = post(client, world)
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["flags"] == NOISE_FLAGS and first["selfie_status"] == "no_face"
    assert first["geofence_id"] is not None and first["distance_m"] == 0 and not first["replayed"]
    again = post(client, world, lat=LAT0 + 0.5)  # a resend (even garbled) with the same key changes nothing
    assert again.status_code == 200 and again.json()["replayed"]
    assert again.json()["checkin_id"] == first["checkin_id"] and again.json()["lat"] == LAT0
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(checkins)).scalar_one() == 1
    today = datetime.now(ZoneInfo(TZ)).date().isoformat()
    day = client.get("/api/v1/days", params={"date": today}, headers=h(world["emp-1"]))
    # The IN counted (the status depends on the time of day the test runs, never absent/pending).
    assert day.status_code == 200 and day.json()[0]["events"] == 1


def test_outside_the_fence_raises_an_explanation_that_a_head_can_accept(client, world, engine):
    r = post(client, world, lat=LAT0 + 0.01)  # ~1.1 km north
    assert r.status_code == 201 and "outside_fence" in r.json()["flags"]
    assert r.json()["distance_m"] == pytest.approx(1012, abs=5)
    listed = client.get("/api/v1/explanations", params={"status": "open"}, headers=h(world["emp-1"])).json()
    fence_req = [e for e in listed if e["reason"] == "outside_fence"]
    assert len(fence_req) == 1 and fence_req[0]["ref"] == r.json()["checkin_id"]
    req_id = fence_req[0]["id"]
    day_before = client.get("/api/v1/days", params={"date": fence_req[0]["day"]}, headers=h(world["emp-1"])).json()
    assert day_before[0]["first_in"] is None and "mobile_event_not_counted" in day_before[0]["flags"]
    # The head cannot decide before the employee replied; another employee cannot reply.
    assert client.post(f"/api/v1/explanations/{req_id}/decision", json={"accept": True},
                       headers=h(world["head"])).status_code == 409
    assert client.post(f"/api/v1/explanations/{req_id}/reply", json={"reply": "mine"},
                       headers=h(world["emp-2"])).status_code == 403
    rep = client.post(f"/api/v1/explanations/{req_id}/reply", json={"reply": "Inspected the school next door"},
                      headers=h(world["emp-1"]))
    assert rep.status_code == 200 and rep.json()["status"] == "replied"
    assert client.post(f"/api/v1/explanations/{req_id}/decision", json={"accept": True},
                       headers=h(world["it"])).status_code == 403  # IT staff do not judge attendance
    dec = client.post(f"/api/v1/explanations/{req_id}/decision", json={"accept": True, "note": "verified"},
                      headers=h(world["head"]))
    assert dec.status_code == 200 and dec.json()["status"] == "accepted" and dec.json()["decided_by"] == "head 1"
    day_after = client.get("/api/v1/days", params={"date": fence_req[0]["day"]}, headers=h(world["emp-1"])).json()
    assert day_after[0]["first_in"] == r.json()["event_time"]
    with engine.connect() as conn:
        actions = [a for (a,) in conn.exec_driver_sql("SELECT action FROM audit_log ORDER BY id")]
    assert {"checkin.create", "explanation.reply", "explanation.accepted"} <= set(actions)


def test_mock_location_and_poor_accuracy(client, world):
    r = post(client, world, mock_location=True, accuracy_m=250.0)
    assert r.status_code == 201
    assert set(r.json()["flags"]) == {"mock_location", "accuracy_too_poor", *NOISE_FLAGS}


def test_impossible_travel_from_a_kiosk_event(client, world, engine, new_kiosk, register_kiosk):
    kiosk = new_kiosk("kiosk-02", "office-2")
    register_kiosk(engine, kiosk)
    now = datetime.now(UTC)
    # emp-1 was seen by the Delhi kiosk 20 minutes ago and now checks in 1,300 km away in Bhubaneswar.
    rec = kiosk.record("emp-1", "IN", iso(now - timedelta(minutes=20)))
    outcome = ingest_payload(engine, topics.records(kiosk.device_id),
                             encode_batch(RecordBatch(device_id=kiosk.device_id, records=[rec])))
    assert outcome.stored == 1
    r = post(client, world)
    assert "impossible_travel" in r.json()["flags"] and "outside_fence" not in r.json()["flags"]
    later = post(client, world, idempotency_key="phone-1:0002", device_time=iso(now + timedelta(minutes=2)),
                 lat=DELHI[1], lon=DELHI[0])
    assert "impossible_travel" in later.json()["flags"]  # 1,300 km in 22 minutes from the previous check-in
    nxt = post(client, world, "emp-3", idempotency_key="phone-3:0001", lat=DELHI[1], lon=DELHI[0])
    assert nxt.json()["flags"] == NOISE_FLAGS  # emp-3 has no earlier event: nothing to compare


def test_selfie_faces_are_counted_with_the_kiosk_detector(client, world, shared_data):
    face = cv2.imread(str(shared_data / "faces" / "lfw_dev" / "AJ_Cook" / "AJ_Cook_0001.jpg"))
    other = cv2.imread(str(shared_data / "faces" / "lfw_dev" / "Aaron_Pena" / "Aaron_Pena_0001.jpg"))
    assert face is not None and other is not None

    def b64(img) -> str:
        return base64.b64encode(cv2.imencode(".jpg", img)[1].tobytes()).decode()

    one = post(client, world, selfie_jpeg_b64=b64(face))
    assert "no_templates" in one.json()["flags"] and "selfie_no_face" not in one.json()["flags"]
    assert one.json()["selfie_match_score"] is None and one.json()["selfie_liveness_score"] is not None
    two = post(client, world, idempotency_key="phone-1:0002", selfie_jpeg_b64=b64(cv2.hconcat([face, other])))
    assert two.json()["flags"] == ["no_templates", "selfie_many_faces"]
    assert two.json()["selfie_status"] == "many_faces"


def test_clock_skew_and_queued_offline(client, world):
    now = datetime.now(UTC)
    ahead = post(client, world, idempotency_key="k-ahead-0001", device_time=iso(now + timedelta(hours=2)))
    assert "device_clock_skew" in ahead.json()["flags"]
    assert abs(datetime.fromisoformat(ahead.json()["event_time"].replace("Z", "+00:00")) - now) < timedelta(minutes=1)
    queued_at = now - timedelta(hours=3)
    queued = post(client, world, idempotency_key="k-queued-0001", device_time=iso(queued_at))
    assert "queued_offline" in queued.json()["flags"] and "device_clock_skew" not in queued.json()["flags"]
    assert queued.json()["event_time"] == iso(queued_at)  # the original time is kept
    # A phone whose clock is an hour slow, sending at once: the offset is measured and corrected.
    slow = post(client, world, idempotency_key="k-slow-00001", device_time=iso(now - timedelta(hours=1, minutes=1)),
                device_sent_time=iso(now - timedelta(hours=1)))
    flags = slow.json()["flags"]
    assert "device_clock_skew" in flags and "queued_offline" not in flags
    corrected = datetime.fromisoformat(slow.json()["event_time"].replace("Z", "+00:00"))
    assert abs(corrected - (now - timedelta(minutes=1))) < timedelta(seconds=30)


@pytest.mark.parametrize("over, field", [
    ({"lat": 200.0}, "lat"),
    ({"accuracy_m": 0}, "accuracy_m"),
    ({"device_time": "2026-11-25 10:00"}, "device_time"),
    ({"idempotency_key": "x"}, "idempotency_key"),
    ({"event": "MAYBE"}, "event"),
    ({"selfie_jpeg_b64": "not base64 at all!!"}, "selfie_jpeg_b64"),
    ({"selfie_jpeg_b64": base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 64).decode()}, "selfie_jpeg_b64"),
    ({"selfie_jpeg_b64": base64.b64encode(b"\xff\xd8\xff\xe0" + b"0" * 64).decode()}, "selfie_jpeg_b64"),
    ({"selfie_jpeg_b64": jpeg_b64(32)}, "selfie_jpeg_b64"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_input_is_422_naming_the_field(client, world, engine, over, field):
    r = post(client, world, **over)
    assert r.status_code == 422, r.text
    assert field in str(r.json()["detail"])
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(checkins)).scalar_one() == 0


def test_an_employee_checks_in_for_themselves_only(client, world):
    r = client.post("/api/v1/checkins", json=body(employee_id="emp-2"), headers=h(world["emp-1"]))
    assert r.status_code == 403
    assert client.post("/api/v1/checkins", json=body(), headers=h(world["head"])).status_code == 403


def test_checkin_is_in_the_openapi_schema(sqlite_engine):
    app = create_app(ServerConfig(database_url="sqlite:///unused.db"), engine=sqlite_engine, start_ingest=False)
    spec = app.openapi()["paths"]["/api/v1/checkins"]["post"]
    assert "outside_fence" in spec["description"]
    schema = app.openapi()["components"]["schemas"]["CheckinCreate"]["properties"]
    assert {"lat", "lon", "accuracy_m", "device_time", "idempotency_key", "selfie_jpeg_b64",
            "mock_location"} <= set(schema)
