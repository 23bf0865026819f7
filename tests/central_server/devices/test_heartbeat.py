"""Heartbeats on SQLite and PostgreSQL: latest per device, rejections counted, silence, clock re-basing."""

import json
import time
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from central_server.app import create_app
from central_server.db.schema import clock_anchors, device_heartbeats, record_times, records, rejections
from central_server.devices.heartbeat import STALE_HEARTBEAT_MS, ingest_heartbeat
from central_server.ingest.records import ingest_payload
from central_server.ingest.rejections import IngestStats
from hajiri_common.timefmt import parse_utc_iso, utc_iso
from hajiri_wire import GENESIS_HASH, Heartbeat, RecordBatch, encode_batch, encode_heartbeat, topics
from hajiri_wire.ids import uuid7
from hajiri_wire.messages import MAX_HEARTBEAT_BYTES
from hajiri_wire.record import UnsignedRecord, record_hash, sign_record

THREE_DAYS_S = 3 * 24 * 3600


@pytest.fixture
def db(engine, registered):
    """The parametrised engine (SQLite / PostgreSQL) with kiosk-01 registered and our tables empty.

    The shared PostgreSQL fixture empties only db.py's tables between tests; these are ours.
    """
    with engine.begin() as conn:
        for table in (device_heartbeats, clock_anchors, record_times):
            conn.execute(table.delete())
    return engine


def heartbeat(device_id="kiosk-01", **kw) -> Heartbeat:
    fields = {"device_id": device_id, "sent_at": utc_iso(time.time()), "boot_id": "boot-a", "mono_ns": 10**12,
              "uptime_s": 1000.0, "clock_synced": True, "queue_depth": 3, "oldest_unsent_age_s": 12.5,
              "cpu_temp_c": None, "disk_free_bytes": 10**9, "model_versions": {"recognition": "sface-2021dec"},
              "last_error": None, **kw}
    return Heartbeat(**fields)


def beat(engine, hb: Heartbeat, **kw):
    return ingest_heartbeat(engine, topics.heartbeat(hb.device_id), encode_heartbeat(hb), **kw)


def rows(engine, table):
    with engine.connect() as conn:
        return conn.execute(sa.select(table)).all()


def test_latest_heartbeat_per_device_is_kept(db, registered):
    beat(db, heartbeat(queue_depth=7))
    beat(db, heartbeat(queue_depth=2, last_error="broker refused"))
    (row,) = rows(db, device_heartbeats)
    body = json.loads(row.body)
    assert row.device_id == "kiosk-01" and body["queue_depth"] == 2 and body["last_error"] == "broker refused"


@pytest.mark.parametrize("case,reason", [
    ("malformed", "malformed"), ("oversized", "too_large"), ("other_device", "topic_mismatch"),
    ("unknown_device", "unknown_device"), ("records_topic", "bad_topic")])
def test_bad_heartbeats_are_rejected_and_counted(db, registered, case, reason):
    topic, payload = topics.heartbeat("kiosk-01"), encode_heartbeat(heartbeat())
    if case == "malformed":
        payload = b'{"schema_version": 1, "device_id": "kiosk-01", "queue_depth": -1}'
    elif case == "oversized":
        payload = b"{" + b" " * MAX_HEARTBEAT_BYTES + b"}"
    elif case == "other_device":
        payload = encode_heartbeat(heartbeat("kiosk-02"))
    elif case == "unknown_device":
        topic, payload = topics.heartbeat("kiosk-09"), encode_heartbeat(heartbeat("kiosk-09"))
    else:
        topic = topics.records("kiosk-01")
    stats = IngestStats()
    outcome = ingest_heartbeat(db, topic, payload, stats=stats)
    assert outcome.rejection is not None and outcome.rejection.reason == reason
    assert stats.snapshot()["rejected"] == {reason: 1}
    assert [r.reason for r in rows(db, rejections)] == [reason]
    assert rows(db, device_heartbeats) == []


class SkewedKiosk:
    """A kiosk without RTC whose wall clock runs three days behind; mono_ns is its (true) monotonic clock."""

    def __init__(self, kiosk, boot_id="boot-skew"):
        self.kiosk, self.boot_id = kiosk, boot_id
        self.mono0 = 5 * 10**12  # mono_ns at true time t0
        self.t0 = time.time() - 600  # ten minutes ago, in true time

    def record(self, at_s: float, synced: bool = False):
        """A record written `at_s` seconds after t0, stamped with the skewed clock."""
        k = self.kiosk
        k.seq += 1
        body = UnsignedRecord(
            record_id=uuid7(), device_id=k.device_id, site_id=k.site_id, seq=k.seq, person_id="emp-1", event="IN",
            wall_time=utc_iso(self.t0 + at_s - (0 if synced else THREE_DAYS_S)), boot_id=self.boot_id,
            mono_ns=self.mono0 + int(at_s * 1e9), clock_synced=synced, match_score=0.7, liveness_score=0.9,
            model_version="m", prev_hash=k.prev_hash if k.seq > 1 else GENESIS_HASH)
        rec = sign_record(body, k.key)
        k.prev_hash = record_hash(rec)
        return rec

    def heartbeat(self, at_s: float, offset_s: float | None = THREE_DAYS_S, rtt_s: float | None = 0.04):
        return heartbeat(sent_at=utc_iso(self.t0 + at_s - THREE_DAYS_S), boot_id=self.boot_id,
                         mono_ns=self.mono0 + int(at_s * 1e9), clock_synced=False, clock_offset_s=offset_s,
                         clock_rtt_s=rtt_s)


def corrected(engine) -> dict[str, tuple[str | None, bool]]:
    return {r.record_id: (r.corrected_wall_time, r.time_corrected) for r in rows(engine, record_times)}


def seconds_apart(a: str, b: float) -> float:
    return abs(parse_utc_iso(a).timestamp() - b)


def test_unsynced_records_are_rebased_on_the_boots_anchor_and_signed_fields_kept(db, registered):
    kiosk = SkewedKiosk(registered)
    early = [kiosk.record(10), kiosk.record(100), kiosk.record(250, synced=True)]
    topic = topics.records("kiosk-01")
    assert ingest_payload(db, topic, encode_batch(RecordBatch(device_id="kiosk-01", records=early))
                          ).statuses() == ["stored"] * 3
    before = corrected(db)
    assert set(before) == {early[0].record_id, early[1].record_id}  # the synced record needs no correction
    assert all(v == (None, False) for v in before.values())

    # The heartbeat leaves the kiosk at true t0+600 s and arrives 20 ms later (half its 40 ms ack round trip).
    received_ms = int((kiosk.t0 + 600.02) * 1000)
    outcome = beat(db, kiosk.heartbeat(600), received_unix_ms=received_ms)
    assert outcome.anchored and outcome.rebased == 2
    after = corrected(db)
    for rec, at in ((early[0], 10), (early[1], 100)):
        when, flag = after[rec.record_id]
        assert flag is True and seconds_apart(when, kiosk.t0 + at) < 0.05
    # A record written later in the same boot is corrected as it is stored.
    late = kiosk.record(700)
    ingest_payload(db, topic, encode_batch(RecordBatch(device_id="kiosk-01", records=[late])))
    when, flag = corrected(db)[late.record_id]
    assert flag and seconds_apart(when, kiosk.t0 + 700) < 0.05
    with db.connect() as conn:  # never overwrite what the kiosk signed
        stored = {r.record_id: r.wall_time for r in conn.execute(sa.select(records.c.record_id, records.c.wall_time))}
    assert stored[early[0].record_id] == early[0].wall_time and stored[late.record_id] == late.wall_time


def test_a_heartbeat_that_sat_in_a_queue_anchors_nothing(db, registered):
    kiosk = SkewedKiosk(registered)
    ingest_payload(db, topics.records("kiosk-01"),
                   encode_batch(RecordBatch(device_id="kiosk-01", records=[kiosk.record(10)])))
    late_by_ms = STALE_HEARTBEAT_MS + 5000  # its own clock (plus offset) says it was sent long before arrival
    outcome = beat(db, kiosk.heartbeat(600), received_unix_ms=int((kiosk.t0 + 600) * 1000) + late_by_ms)
    assert not outcome.anchored and outcome.rejection is None
    assert rows(db, clock_anchors) == []
    assert list(corrected(db).values()) == [(None, False)]


def test_devices_api_shows_heartbeat_fields_and_silence(config, sqlite_engine, tokens, auth, new_kiosk,
                                                       register_kiosk):
    for name in ("kiosk-01", "kiosk-02"):
        register_kiosk(sqlite_engine, new_kiosk(name))
    now_ms = int(time.time() * 1000)
    beat(sqlite_engine, heartbeat(queue_depth=4, clock_offset_s=0.25, last_error="disk nearly full"),
         received_unix_ms=now_ms - 2000)
    with TestClient(create_app(config, engine=sqlite_engine, start_ingest=False)) as client:
        listed = {d["device_id"]: d for d in client.get("/api/v1/devices", headers=auth(tokens["it"])).json()}
        assert listed["kiosk-01"]["silent"] is False and listed["kiosk-01"]["queue_depth"] == 4
        assert listed["kiosk-01"]["clock_offset_s"] == 0.25 and listed["kiosk-01"]["last_error"] == "disk nearly full"
        assert listed["kiosk-02"]["silent"] is True and listed["kiosk-02"]["last_heartbeat_at"] is None
        # Silence is computed when asked: a stricter threshold turns the same heartbeat into silence.
        strict = client.get("/api/v1/devices", params={"silent_after_s": 10}, headers=auth(tokens["it"])).json()
        assert all(d["silent"] is False for d in strict if d["device_id"] == "kiosk-01")
        report = client.get("/api/v1/devices/kiosk-01/heartbeat", headers=auth(tokens["it"])).json()
        assert report["heartbeat"]["disk_free_bytes"] == 10**9 and 1.5 < report["heartbeat_age_s"] < 60
        assert client.get("/api/v1/devices/kiosk-01/heartbeat",
                          headers=auth(tokens["employee"])).status_code == 403
        assert client.get("/api/v1/devices/nope-1/heartbeat", headers=auth(tokens["it"])).status_code == 404


def test_silent_after_the_threshold(config, sqlite_engine, tokens, auth, new_kiosk, register_kiosk):
    register_kiosk(sqlite_engine, new_kiosk("kiosk-01"))
    beat(sqlite_engine, heartbeat(), received_unix_ms=int(time.time() * 1000) - 30_000)
    with TestClient(create_app(config, engine=sqlite_engine, start_ingest=False)) as client:
        loose = client.get("/api/v1/devices/kiosk-01/heartbeat", headers=auth(tokens["it"])).json()
        strict = client.get("/api/v1/devices/kiosk-01/heartbeat", params={"silent_after_s": 20},
                            headers=auth(tokens["it"])).json()
    assert loose["silent"] is False and strict["silent"] is True


def test_attendance_lists_a_rebased_record_on_its_true_day_not_the_kiosks(db, registered):
    """The day listing and dashboard go by the corrected time once the boot is anchored."""
    from central_server.attendance.presence import day_records, presence

    kiosk = SkewedKiosk(registered)
    rec = kiosk.record(10)
    ingest_payload(db, topics.records("kiosk-01"), encode_batch(RecordBatch(device_id="kiosk-01", records=[rec])))
    true_day = datetime.fromtimestamp(kiosk.t0 + 10, UTC).date()
    skewed_day = parse_utc_iso(rec.wall_time).date()
    assert true_day != skewed_day
    with db.connect() as conn:  # before an anchor the kiosk's own (wrong) clock is all there is
        assert [r["record_id"] for r in day_records(conn, skewed_day, "UTC")] == [rec.record_id]
        assert day_records(conn, true_day, "UTC") == []
    beat(db, kiosk.heartbeat(600), received_unix_ms=int((kiosk.t0 + 600.02) * 1000))
    with db.connect() as conn:
        assert day_records(conn, skewed_day, "UTC") == []
        (row,) = day_records(conn, true_day, "UTC")
        assert row["time_corrected"] is True and row["wall_time"] == rec.wall_time
        assert seconds_apart(row["time"], kiosk.t0 + 10) < 0.05
        (site,) = presence(conn, true_day, "UTC", registered.site_id)
    assert site.people["emp-1"].first_in == row["time"]
