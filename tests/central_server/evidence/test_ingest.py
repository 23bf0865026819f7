"""Spoof evidence on SQLite and PostgreSQL: signed, sealed crops are stored once and linked to their SPOOF record
(even when they come first); forged, undecryptable and attendance crops are refused and counted; the review API
is role- and site-gated and audited; a kiosk with liveness off is listed and noted."""

import time

import cv2
import numpy as np
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from central_server.app import create_app
from central_server.db.schema import audit_log, evidence, rejections
from central_server.devices.heartbeat import ingest_heartbeat
from central_server.evidence.ingest import ingest_evidence, server_evidence_key
from central_server.evidence.notes import dashboard_notes
from central_server.ingest.records import ingest_payload
from central_server.ingest.rejections import IngestStats
from hajiri_common.timefmt import utc_iso
from hajiri_wire import DeviceKey, Heartbeat, RecordBatch, encode_batch, encode_heartbeat, topics
from hajiri_wire.evidence import EvidenceKey, encode_evidence, seal_evidence
from hajiri_wire.ids import uuid7

JPEG = cv2.imencode(".jpg", np.full((40, 32, 3), 128, np.uint8))[1].tobytes()


def sealed(kiosk, record_id: str, key: EvidenceKey, *, device_key: DeviceKey | None = None,
           jpeg: bytes = JPEG, device_id: str | None = None) -> bytes:
    msg = seal_evidence(jpeg, device_id=device_id or kiosk.device_id, record_id=record_id,
                        taken_at=utc_iso(time.time()), device_key=device_key or kiosk.key,
                        server_public=key.public)
    return encode_evidence(msg)


def send(engine, kiosk, payload: bytes, key: EvidenceKey, stats: IngestStats | None = None, device_id=None):
    return ingest_evidence(engine, topics.evidence(device_id or kiosk.device_id), payload, key, stats=stats)


def store_records(engine, kiosk, *recs) -> None:
    out = ingest_payload(engine, topics.records(kiosk.device_id),
                         encode_batch(RecordBatch(device_id=kiosk.device_id, records=list(recs))))
    assert out.statuses() == ["stored"] * len(recs)


@pytest.fixture
def key(tmp_path) -> EvidenceKey:
    return EvidenceKey.load_or_create(tmp_path / "evidence.key")


def test_evidence_before_and_after_its_record_is_stored_once(engine, registered, key) -> None:
    spoof = registered.record(None, "SPOOF")
    early_id = uuid7()
    out = send(engine, registered, sealed(registered, early_id, key), key)  # its record is not here yet
    assert out.status == "stored" and out.ack.results[0].status == "stored"
    assert out.ack.results[0].record_id == early_id
    store_records(engine, registered, spoof)
    assert send(engine, registered, sealed(registered, spoof.record_id, key), key).status == "stored"
    # A resend is sealed afresh (other bytes) and is a duplicate; the first copy stays.
    again = send(engine, registered, sealed(registered, spoof.record_id, key), key)
    assert again.status == "duplicate" and again.ack.results[0].status == "duplicate"
    with engine.connect() as conn:
        rows = conn.execute(sa.select(evidence).order_by(evidence.c.record_id)).all()
    assert {r.record_id for r in rows} == {early_id, spoof.record_id}
    assert all(r.review_status == "pending" and r.site_id == "office-1" for r in rows)
    assert all(b"\xff\xd8\xff" not in r.sealed.encode() for r in rows)


def test_forged_undecryptable_and_attendance_evidence_is_refused_and_counted(engine, registered, key,
                                                                             new_kiosk, register_kiosk) -> None:
    stats = IngestStats()
    attendance = registered.record("emp-1", "IN")
    spoof = registered.record(None, "SPOOF")
    store_records(engine, registered, attendance, spoof)
    forged = send(engine, registered, sealed(registered, spoof.record_id, key, device_key=DeviceKey.generate()),
                  key, stats)
    assert forged.status == "rejected" and forged.rejection.reason == "bad_signature"
    assert forged.ack is None  # a forgery is never answered: it could make the kiosk drop its real crop
    other_server = EvidenceKey.generate()
    wrong = send(engine, registered, sealed(registered, spoof.record_id, other_server), key, stats)
    assert wrong.rejection.reason == "evidence_undecryptable" and wrong.ack.results[0].status == "rejected"
    assert send(engine, registered, sealed(registered, spoof.record_id, key, jpeg=b"not a jpeg"), key,
                stats).rejection.reason == "evidence_not_jpeg"
    face_of_in = send(engine, registered, sealed(registered, attendance.record_id, key), key, stats)
    assert face_of_in.rejection.reason == "evidence_for_attendance"
    assert send(engine, registered, b"{ truncated", key, stats).rejection.reason == "malformed"
    mismatch = send(engine, registered, sealed(registered, spoof.record_id, key, device_id="kiosk-02"), key, stats)
    assert mismatch.rejection.reason == "topic_mismatch"
    stranger = new_kiosk("kiosk-09", "office-1")
    assert send(engine, stranger, sealed(stranger, uuid7(), key), key, stats).rejection.reason == "unknown_device"
    # Another registered kiosk claiming this kiosk's record.
    other = new_kiosk("kiosk-02", "office-1")
    register_kiosk(engine, other)
    assert send(engine, other, sealed(other, spoof.record_id, key), key,
                stats).rejection.reason == "evidence_record_mismatch"
    expected = {"bad_signature": 1, "evidence_undecryptable": 1, "evidence_not_jpeg": 1,
                "evidence_for_attendance": 1, "malformed": 1, "topic_mismatch": 1, "unknown_device": 1,
                "evidence_record_mismatch": 1}
    assert stats.snapshot()["rejected"] == expected
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(evidence)).scalar_one() == 0
        by_reason = dict(conn.execute(sa.select(rejections.c.reason, sa.func.count())
                                      .group_by(rejections.c.reason)).all())
    assert by_reason == expected


def heartbeat(**kw) -> Heartbeat:
    return Heartbeat(device_id="kiosk-01", sent_at=utc_iso(time.time()), boot_id="boot-a", mono_ns=10**12,
                     uptime_s=10.0, clock_synced=True, queue_depth=0, **kw)


@pytest.fixture
def api(config, sqlite_engine, tokens, register_kiosk, new_kiosk, random_token):
    from central_server.access.tokens import Role, create_token

    with sqlite_engine.begin() as conn:
        tokens["head2"] = create_token(conn, Role.OFFICE_HEAD, "head of office-2", "office-2")
        tokens["warden"] = create_token(conn, Role.WARDEN, "warden of office-1", "office-1")
    kiosk = new_kiosk()
    register_kiosk(sqlite_engine, kiosk)
    with TestClient(create_app(config, engine=sqlite_engine, start_ingest=False)) as client:
        yield client, kiosk


def test_review_list_image_and_verdict_are_gated_and_audited(api, config, sqlite_engine, tokens, auth) -> None:
    client, kiosk = api
    key = server_evidence_key(config)
    assert client.get("/api/v1/evidence/server-key", headers=auth(tokens["it"])).json()["public_key"] == \
        key.public_b64
    spoof = kiosk.record(None, "SPOOF")
    assert send(sqlite_engine, kiosk, sealed(kiosk, spoof.record_id, key), key).status == "stored"
    early = client.get("/api/v1/evidence", headers=auth(tokens["admin"])).json()
    assert [(e["linked"], e["event"]) for e in early] == [(False, None)]  # the crop came before its record
    store_records(sqlite_engine, kiosk, spoof)

    listed = client.get("/api/v1/evidence", params={"status": "pending"}, headers=auth(tokens["admin"])).json()
    assert [(e["record_id"], e["event"], e["linked"]) for e in listed] == [(spoof.record_id, "SPOOF", True)]
    head = client.get("/api/v1/evidence", headers=auth(tokens["head"])).json()
    assert [e["record_id"] for e in head] == [spoof.record_id]
    assert client.get("/api/v1/evidence", headers=auth(tokens["head2"])).json() == []  # other site: none
    assert client.get("/api/v1/evidence", params={"site_id": "office-1"},
                      headers=auth(tokens["head2"])).status_code == 403
    assert client.get("/api/v1/evidence", headers=auth(tokens["warden"])).status_code == 403
    assert client.get("/api/v1/evidence", headers=auth(tokens["employee"])).status_code == 403
    assert client.get("/api/v1/evidence").status_code == 401
    url = listed[0]["image_url"]
    assert client.get(url, headers=auth(tokens["head2"])).status_code == 403
    image = client.get(url, headers=auth(tokens["head"]))
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert image.content == JPEG and image.headers["cache-control"] == "no-store"

    bad = client.post(f"/api/v1/evidence/{spoof.record_id}/review", json={"status": "maybe"},
                      headers=auth(tokens["admin"]))
    assert bad.status_code == 422
    done = client.post(f"/api/v1/evidence/{spoof.record_id}/review",
                       json={"status": "confirmed_spoof", "note": "photo of emp-1 held up"},
                       headers=auth(tokens["admin"]))
    assert done.status_code == 200 and done.json()["review_status"] == "confirmed_spoof"
    assert done.json()["reviewed_by"] == "admin"
    assert client.post("/api/v1/evidence/0190-nope/review", json={"status": "false_alarm"},
                       headers=auth(tokens["admin"])).status_code == 404
    assert client.get("/api/v1/evidence", params={"status": "pending"}, headers=auth(tokens["admin"])).json() == []
    with sqlite_engine.connect() as conn:
        audits = conn.execute(sa.select(audit_log.c.actor, audit_log.c.action, audit_log.c.target)
                              .where(audit_log.c.action.like("evidence.%")).order_by(audit_log.c.id)).all()
    assert [tuple(a) for a in audits] == [("head of office-1", "evidence.view", spoof.record_id),
                                          ("admin", "evidence.review", spoof.record_id)]


def test_device_list_and_events_show_a_kiosk_with_liveness_off(api, sqlite_engine, tokens, auth) -> None:
    client, _ = api
    ingest_heartbeat(sqlite_engine, topics.heartbeat("kiosk-01"),
                     encode_heartbeat(heartbeat(liveness_enabled=False, evidence_pending=2, evidence_uplink=False)))
    (dev,) = client.get("/api/v1/devices", headers=auth(tokens["admin"])).json()
    assert dev["liveness_enabled"] is False and dev["evidence_pending"] == 2 and dev["evidence_uplink"] is False
    events = client.get("/api/v1/evidence/liveness-events", headers=auth(tokens["head"])).json()
    assert [(e["device_id"], e["enabled"]) for e in events] == [("kiosk-01", False)]
    assert client.get("/api/v1/evidence/liveness-events", headers=auth(tokens["head2"])).json() == []


def test_dashboard_notes_name_kiosks_without_liveness_and_the_queue(api, config, sqlite_engine) -> None:
    """evidence.notes, for a presence board: kiosks with liveness off and crops waiting. (The review page itself is
    /review: tests/central_server/web/test_review_page.py.)"""
    _, kiosk = api
    key = server_evidence_key(config)
    spoof = kiosk.record(None, "SPOOF")
    store_records(sqlite_engine, kiosk, spoof)
    send(sqlite_engine, kiosk, sealed(kiosk, spoof.record_id, key), key)
    ingest_heartbeat(sqlite_engine, topics.heartbeat("kiosk-01"), encode_heartbeat(heartbeat(liveness_enabled=False)))
    with sqlite_engine.connect() as conn:
        notes = dashboard_notes(conn, "office-1")
        assert "Liveness is OFF on kiosk kiosk-01" in notes and "Spoof evidence: 1 waiting" in notes
        assert "Liveness is OFF" not in dashboard_notes(conn, "office-2")
