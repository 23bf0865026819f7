"""The in-flight window and the reconnect backoff: bounds, resend order, partial acks, jitter."""

import random

import pytest

from hajiri_wire import GENESIS_HASH, DeviceKey, UnsignedRecord, decode_batch, record_hash, sign_record
from hajiri_wire.ids import uuid7
from sync_agent.agent import fit_batch
from sync_agent.backoff import Backoff
from sync_agent.window import InflightWindow


def chain(n: int, model_version: str = "sface"):
    key, prev, out = DeviceKey.generate(), GENESIS_HASH, []
    for seq in range(1, n + 1):
        body = UnsignedRecord(record_id=uuid7(), device_id="kiosk-01", site_id="office-1", seq=seq,
                              person_id="p1", event="IN", wall_time="2026-11-25T09:00:00.000Z", boot_id="b",
                              mono_ns=seq, clock_synced=True, match_score=0.7, liveness_score=None,
                              model_version=model_version, prev_hash=prev)
        rec = sign_record(body, key)
        out.append(rec)
        prev = record_hash(rec)
    return out


def test_window_is_bounded_and_resends_overdue_batches_lowest_seq_first():
    recs = chain(6)
    w = InflightWindow(max_batches=2, ack_timeout_s=5)
    w.add(recs[3:6], now=10.0)
    w.add(recs[0:3], now=12.0)
    assert w.free_slots() == 0
    with pytest.raises(ValueError, match="window full"):
        w.add(recs[:1], now=12.0)
    assert w.due(now=14.0) == []
    assert [b.first_seq for b in w.due(now=15.0)] == [4]
    assert [b.first_seq for b in w.due(now=17.0)] == [1, 4]
    w.mark_resent(w.due(now=17.0)[0], now=17.0)
    assert [b.first_seq for b in w.due(now=17.0)] == [4]


def test_partial_ack_keeps_the_rest_in_flight():
    recs = chain(4)
    w = InflightWindow(max_batches=2, ack_timeout_s=5)
    w.add(recs[:2], now=0.0)
    w.add(recs[2:], now=0.0)
    assert w.settle({recs[0].record_id, recs[2].record_id, recs[3].record_id, "not-ours"}) == 1
    assert len(w) == 1 and w.record_ids() == {recs[1].record_id}
    w.expire_all()
    assert [b.first_seq for b in w.due(now=0.0)] == [2]


def test_fit_batch_splits_what_would_exceed_the_payload_cap():
    recs = chain(40)
    whole, payload = fit_batch("kiosk-01", recs)
    assert whole == recs
    limit = len(payload) // 3
    fitted, part = fit_batch("kiosk-01", recs, limit=limit)
    assert fitted == recs[:10] and len(part) <= limit  # 40 -> 20 -> 10
    assert decode_batch(part).records == fitted


def test_backoff_doubles_caps_and_jitters_within_bounds():
    b = Backoff(1.0, 8.0, jitter=0.5, rng=random.Random(1))
    delays = [b.next_delay() for _ in range(8)]
    for base, d in zip([1, 2, 4, 8, 8, 8, 8, 8], delays, strict=True):
        assert base * 0.5 <= d <= base
    assert len(set(delays)) == len(delays)  # jittered: no two waits alike
    b.reset()
    assert b.next_delay() <= 1.0
    assert Backoff(1.0, 8.0, jitter=0.0).next_delay() == 1.0
