"""Batched ingest: one lookup and one insert per batch, in-batch repeats, revocation despite the key cache,
and links settled after concurrent commits (SQLite and PostgreSQL)."""

import sqlalchemy as sa

from central_server.db.schema import records
from central_server.ingest.records import ingest_payload, settle_links
from central_server.org.registry import revoke_device
from hajiri_wire import RecordBatch, encode_batch, topics

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
