"""Records ingest on SQLite and PostgreSQL: store once, reject bad input by reason, keep going, chain notes;
batched (one lookup and one insert per batch, in-batch repeats, revocation despite the key cache, links settled
after concurrent commits); the days a batch touched, corrected ones included."""

import json

import pytest
import sqlalchemy as sa

from central_server.db.schema import records, rejections
from central_server.devices.registry import revoke_device
from central_server.ingest.records import ingest_payload, settle_links
from central_server.ingest.rejections import IngestStats
from hajiri_wire import RecordBatch, encode_batch, topics
from hajiri_wire.messages import MAX_PAYLOAD_BYTES


def batch_bytes(device_id, recs) -> bytes:
    return encode_batch(RecordBatch(device_id=device_id, records=recs))


def count(engine, table, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()


def test_valid_batch_is_stored_once_and_a_resend_is_duplicate(engine, registered):
    recs = [registered.record("emp-1", "IN"), registered.record("emp-2", "IN"), registered.record(None, "UNKNOWN")]
    payload = batch_bytes("kiosk-01", recs)
    stats = IngestStats()
    first = ingest_payload(engine, topics.records("kiosk-01"), payload, stats=stats)
    assert first.statuses() == ["stored"] * 3
    assert first.ack.device_id == "kiosk-01" and first.ack.server_time.endswith("Z")
    assert [r.record_id for r in first.ack.results] == [r.record_id for r in recs]
    again = ingest_payload(engine, topics.records("kiosk-01"), payload, stats=stats)
    assert again.statuses() == ["duplicate"] * 3
    assert count(engine, records) == 3
    assert stats.snapshot()["stored"] == 3 and stats.snapshot()["duplicate"] == 3
    with engine.connect() as conn:
        rows = conn.execute(sa.select(records).order_by(records.c.seq)).all()
    assert [r.seq for r in rows] == [1, 2, 3]
    assert all(r.chain_ok is True for r in rows)
    assert rows[0].person_id == "emp-1" and rows[2].person_id is None and rows[0].clock_synced is True
    assert json.loads(rows[1].body)["sig"] == recs[1].sig


def _forged(kiosk, new_kiosk):
    rec = kiosk.record()
    return batch_bytes("kiosk-01", [rec.model_copy(update={"person_id": "emp-999"})]), topics.records("kiosk-01")


def _unknown(kiosk, new_kiosk):
    stranger = new_kiosk("kiosk-02")
    return batch_bytes("kiosk-02", [stranger.record()]), topics.records("kiosk-02")


def _truncated(kiosk, new_kiosk):
    payload = batch_bytes("kiosk-01", [kiosk.record()])
    return payload[: len(payload) // 2], topics.records("kiosk-01")


def _binary(kiosk, new_kiosk):
    return b"\x00\xff\xfe garbage \x00", topics.records("kiosk-01")


def _schema(kiosk, new_kiosk):
    obj = json.loads(batch_bytes("kiosk-01", [kiosk.record()]))
    obj["schema_version"] = 2
    return json.dumps(obj).encode(), topics.records("kiosk-01")


def _topic_mismatch(kiosk, new_kiosk):
    # kiosk-01's records published on kiosk-02's topic (a device speaking for another).
    return batch_bytes("kiosk-01", [kiosk.record()]), topics.records("kiosk-02")


def _oversized(kiosk, new_kiosk):
    return b"{" + b" " * MAX_PAYLOAD_BYTES + b"}", topics.records("kiosk-01")


def _bad_topic(kiosk, new_kiosk):
    return batch_bytes("kiosk-01", [kiosk.record()]), "hajiri/v1/dev/kiosk-01/up/heartbeat"


CASES = {
    "forged_signature": (_forged, "bad_signature", True),
    "unknown_device": (_unknown, "unknown_device", False),
    "truncated_json": (_truncated, "malformed", False),
    "binary_garbage": (_binary, "malformed", False),
    "wrong_schema_version": (_schema, "schema_version", False),
    "topic_mismatch": (_topic_mismatch, "topic_mismatch", False),
    "oversized": (_oversized, "too_large", False),
    "not_a_records_topic": (_bad_topic, "bad_topic", False),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_rejected_counted_logged_and_the_next_batch_still_goes_through(
        engine, registered, new_kiosk, case, caplog):
    make, reason, acked = CASES[case]
    payload, topic = make(registered, new_kiosk)
    stats = IngestStats()
    with caplog.at_level("WARNING", logger="central_server.ingest"):
        outcome = ingest_payload(engine, topic, payload, stats=stats)
    assert [r.reason for r in outcome.rejections] == [reason]
    if acked:  # a record-level refusal is acked as rejected so the kiosk stops resending it
        assert [(r.status, r.reason) for r in outcome.ack.results] == [("rejected", reason)]
    else:  # nothing in it can be acked
        assert outcome.ack is None and outcome.batch_reason == reason
    assert stats.snapshot()["rejected"] == {reason: 1}
    assert any(reason in m for m in caplog.messages)
    with engine.connect() as conn:
        row = conn.execute(sa.select(rejections)).one()
    assert row.reason == reason and row.detail and len(row.payload_excerpt) <= 512
    assert len(row.payload_sha256) == 64
    assert count(engine, records) == 0

    # The forged record consumed seq 1 on the test side; start a fresh valid chain for the follow-up.
    registered.seq, registered.prev_hash = 0, "0" * 64
    good = ingest_payload(engine, topics.records("kiosk-01"), batch_bytes("kiosk-01", [registered.record()]),
                          stats=stats)
    assert good.statuses() == ["stored"]
    assert count(engine, records) == 1


def test_revoked_device_is_rejected_and_nothing_stored(engine, registered):
    with engine.begin() as conn:
        revoke_device(conn, "kiosk-01", actor="test")
    outcome = ingest_payload(engine, topics.records("kiosk-01"), batch_bytes("kiosk-01", [registered.record()]))
    assert outcome.ack is None and outcome.batch_reason == "revoked_device"
    assert count(engine, records) == 0
    assert count(engine, rejections, rejections.c.reason == "revoked_device") == 1


def test_same_seq_with_another_record_id_is_a_seq_conflict(engine, registered):
    first = registered.record("emp-1")
    assert ingest_payload(engine, topics.records("kiosk-01"), batch_bytes("kiosk-01", [first])).statuses() == ["stored"]
    replay = registered.record("emp-2", seq=1, prev_hash="0" * 64)  # validly signed, new id, same seq
    outcome = ingest_payload(engine, topics.records("kiosk-01"), batch_bytes("kiosk-01", [replay]))
    assert [(r.status, r.reason) for r in outcome.ack.results] == [("rejected", "seq_conflict")]
    with engine.connect() as conn:
        row = conn.execute(sa.select(rejections)).one()
        assert row.reason == "seq_conflict" and row.record_id == replay.record_id and first.record_id in row.detail
        assert conn.execute(sa.select(records.c.person_id)).scalar_one() == "emp-1"


def test_one_bad_record_does_not_sink_the_good_ones_in_its_batch(engine, registered):
    a, b, c = registered.record("emp-1"), registered.record("emp-2"), registered.record("emp-3")
    forged_b = b.model_copy(update={"event": "OUT"})
    outcome = ingest_payload(engine, topics.records("kiosk-01"), batch_bytes("kiosk-01", [a, forged_b, c]))
    assert [r.status for r in outcome.ack.results] == ["stored", "rejected", "stored"]
    assert count(engine, records) == 2
    with engine.connect() as conn:
        # seq 3 arrived without seq 2: its link is unknown, not called broken.
        row = conn.execute(sa.select(records).where(records.c.seq == 3)).one()
    assert row.chain_ok is None and "seq 2 not received" in row.chain_note


def test_broken_chain_is_stored_and_flagged_not_dropped(engine, registered):
    r1 = registered.record()
    r2 = registered.record(prev_hash="ab" * 32)  # signed by the device, but does not link to seq 1
    outcome = ingest_payload(engine, topics.records("kiosk-01"), batch_bytes("kiosk-01", [r1, r2]))
    assert outcome.statuses() == ["stored", "stored"]
    with engine.connect() as conn:
        rows = conn.execute(sa.select(records).order_by(records.c.seq)).all()
    assert rows[0].chain_ok is True
    assert rows[1].chain_ok is False and "does not match the stored seq 1" in rows[1].chain_note


def test_a_late_record_settles_the_link_of_the_one_after_it(engine, registered):
    r1, r2, r3 = registered.record(), registered.record(), registered.record()
    topic = topics.records("kiosk-01")
    assert ingest_payload(engine, topic, batch_bytes("kiosk-01", [r1, r3])).statuses() == ["stored", "stored"]
    with engine.connect() as conn:
        assert conn.execute(sa.select(records.c.chain_ok).where(records.c.seq == 3)).scalar_one() is None
    assert ingest_payload(engine, topic, batch_bytes("kiosk-01", [r2])).statuses() == ["stored"]
    with engine.connect() as conn:
        assert conn.execute(sa.select(records.c.chain_ok).where(records.c.seq == 3)).scalar_one() is True


def test_database_failure_gives_no_ack_and_the_worker_goes_on(sqlite_engine, register_kiosk, new_kiosk):
    kiosk = new_kiosk()
    register_kiosk(sqlite_engine, kiosk)
    payload = batch_bytes("kiosk-01", [kiosk.record()])
    with sqlite_engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE records RENAME TO records_away")
    outcome = ingest_payload(sqlite_engine, topics.records("kiosk-01"), payload)
    assert outcome.ack is None and outcome.batch_reason == "server_error"
    with sqlite_engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE records_away RENAME TO records")
    assert ingest_payload(sqlite_engine, topics.records("kiosk-01"), payload).statuses() == ["stored"]


def test_rejections_table_is_bounded(sqlite_engine):
    for i in range(105):
        ingest_payload(sqlite_engine, topics.records("kiosk-01"), b"nope %d" % i, rejections_keep=100)
    with sqlite_engine.connect() as conn:
        ids = [r.id for r in conn.execute(sa.select(rejections.c.id).order_by(rejections.c.id))]
    assert len(ids) == 100 and ids[-1] == 105 and ids[0] == 6


def test_a_late_batch_rebased_at_once_recomputes_the_corrected_day(engine, registered):
    """An unsynced record whose boot is already anchored counts on its corrected day, and that day is
    recomputed after the batch: a day settled `absent` becomes `present`."""
    from datetime import UTC, date, datetime

    from central_server.attendance.rules.recompute import recompute_after_ingest, recompute_days
    from central_server.db.schema import attendance_days
    from central_server.devices.heartbeat import ingest_heartbeat
    from central_server.org.employees import create_employee, create_shift
    from hajiri_common.timefmt import utc_iso
    from hajiri_wire import (
        GENESIS_HASH,
        Heartbeat,
        UnsignedRecord,
        encode_heartbeat,
        record_hash,
        sign_record,
    )
    from hajiri_wire.ids import uuid7

    day = date(2026, 11, 25)
    with engine.begin() as conn:
        create_shift(conn, {"shift_id": "office", "name": "Office", "start_time": "10:00", "end_time": "17:30",
                            "grace_late_min": 10, "grace_early_min": 10, "half_day_hours": 4.0,
                            "absent_hours": 2.0, "overnight": False, "weekly_off": ["sun"]}, actor="test")
        create_employee(conn, {"employee_id": "emp-1", "name": "Asha", "site_id": "office-1",
                               "shift_id": "office"}, actor="test")
        recompute_days(conn, None, [day], "UTC", now=datetime(2026, 11, 28, tzinfo=UTC))  # settled: absent
    # A kiosk with no real-time clock (it believes it is 2020) heartbeats at 09:00 true time: boot anchored.
    anchor_s, mono0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC).timestamp(), 7 * 10**12
    beat = Heartbeat(device_id="kiosk-01", sent_at="2020-01-01T00:00:00.000Z", boot_id="boot-no-rtc",
                     mono_ns=mono0, uptime_s=100.0, clock_synced=False, queue_depth=0, oldest_unsent_age_s=None,
                     cpu_temp_c=None, disk_free_bytes=10**9, model_versions={}, last_error=None)
    assert ingest_heartbeat(engine, topics.heartbeat("kiosk-01"), encode_heartbeat(beat),
                            received_unix_ms=int(anchor_s * 1000)).rejection is None

    def unsynced(event: str, true_hhmm: str, seq: int, prev: str):
        h, m = map(int, true_hhmm.split(":"))
        after_ns = int((datetime(2026, 11, 25, h, m, tzinfo=UTC).timestamp() - anchor_s) * 1e9)
        return sign_record(UnsignedRecord(
            record_id=uuid7(), device_id="kiosk-01", site_id="office-1", seq=seq, person_id="emp-1", event=event,
            wall_time=utc_iso(datetime(2020, 1, 1, h, m, tzinfo=UTC).timestamp()), boot_id="boot-no-rtc",
            mono_ns=mono0 + after_ns, clock_synced=False, match_score=0.7, liveness_score=0.9,
            model_version="sface-2021dec", prev_hash=prev), registered.key)

    first = unsynced("IN", "10:04", 1, GENESIS_HASH)
    second = unsynced("OUT", "17:35", 2, record_hash(first))
    outcome = ingest_payload(engine, topics.records("kiosk-01"), batch_bytes("kiosk-01", [first, second]))
    assert outcome.statuses() == ["stored", "stored"]
    recompute_after_ingest(engine, outcome.touched, "UTC")  # what the worker does after the ack
    with engine.connect() as conn:
        status = conn.execute(sa.select(attendance_days.c.status).where(
            attendance_days.c.employee_id == "emp-1", attendance_days.c.day == "2026-11-25")).scalar_one()
    assert status == "present"
    assert {t[:10] for _, t in outcome.touched} >= {"2026-11-25"}, outcome.touched


# ---- batched: one lookup and one insert per batch -------------------------------------------------------

TOPIC = topics.records("kiosk-01")


def send(engine, recs):
    return ingest_payload(engine, TOPIC, encode_batch(RecordBatch(device_id="kiosk-01", records=recs)))


def links(engine) -> dict[int, bool | None]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(records.c.seq, records.c.chain_ok).order_by(records.c.seq)).all())


def test_a_record_twice_in_one_batch_is_stored_once(engine, registered):
    a, b = registered.record("emp-1"), registered.record("emp-2")
    assert send(engine, [a, b, a]).statuses() == ["stored", "stored", "duplicate"]
    assert links(engine) == {1: True, 2: True}


def test_two_records_with_one_seq_in_one_batch_keep_the_first(engine, registered):
    a = registered.record("emp-1")
    twin = registered.record("emp-2", seq=1, prev_hash="0" * 64)
    outcome = send(engine, [a, twin])
    assert [(r.status, r.reason) for r in outcome.ack.results] == [("stored", None), ("rejected", "seq_conflict")]


def test_a_batch_in_reverse_order_links_whole(engine, registered):
    recs = [registered.record() for _ in range(5)]
    assert send(engine, list(reversed(recs))).statuses() == ["stored"] * 5
    assert links(engine) == {s: True for s in range(1, 6)}


def test_revocation_takes_effect_at_the_next_batch_despite_the_key_cache(engine, registered):
    assert send(engine, [registered.record()]).statuses() == ["stored"]  # the key is now cached
    with engine.begin() as conn:
        revoke_device(conn, "kiosk-01", actor="test")
    outcome = send(engine, [registered.record()])
    assert outcome.ack is None and outcome.batch_reason == "revoked_device"


def test_settle_links_fixes_a_link_left_unknown_by_a_concurrent_commit(engine, registered):
    recs = [registered.record() for _ in range(4)]
    send(engine, recs)
    with engine.begin() as conn:  # as if seq 4 had been judged while seq 3 sat in another open transaction
        conn.execute(sa.update(records).where(records.c.seq == 4).values(chain_ok=None, chain_note="pending"))
    with engine.connect() as conn:
        assert settle_links(conn, "kiosk-01", [], [4]) == 1
        assert settle_links(conn, "kiosk-01", [], [4, 9]) == 0  # settled already; nothing stored at 9
    assert links(engine)[4] is True
