"""The kiosk record store: signed chained records, acks, rejections, durability and a full disk."""

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hajiri_wire import verify_chain, verify_record
from hajiri_wire.messages import Ack, AckResult
from kiosk.store import (
    Observation,
    StoreError,
    all_records,
    append_record,
    apply_ack,
    open_store,
    pending_records,
    status_counts,
)


def obs(person: str | None = "emp-1", event: str = "IN") -> Observation:
    return Observation(person_id=person, event=event, wall_time=time.time(), boot_id="boot-1",
                       mono_ns=time.monotonic_ns(), clock_synced=False, match_score=0.6123456,
                       liveness_score=None, model_version="test-model")


def test_records_are_signed_and_chained(tmp_path, device):
    db = open_store(tmp_path / "kiosk.db")
    for i in range(5):
        append_record(db, device, obs(f"emp-{i}"))
    recs = all_records(db)
    assert [r.seq for r in recs] == [1, 2, 3, 4, 5]
    assert verify_chain(recs) == []
    for r in recs:
        verify_record(r, device.key.public)
    assert recs[0].match_score == 0.6123  # rounded so the canonical bytes are stable


def test_store_is_wal_and_synchronous_full(tmp_path):
    db = open_store(tmp_path / "kiosk.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_ack_marks_only_named_records(tmp_path, device):
    db = open_store(tmp_path / "kiosk.db")
    recs = [append_record(db, device, obs()) for _ in range(4)]
    ack = Ack(device_id="kiosk-01", server_time="2026-11-25T10:00:00.000Z", results=[
        AckResult(record_id=recs[0].record_id, status="stored"),
        AckResult(record_id=recs[1].record_id, status="duplicate"),
        AckResult(record_id=recs[2].record_id, status="rejected", reason="bad_signature"),
        AckResult(record_id="01a2129a-2d90-7320-8e99-2edd9d7e432a", status="stored"),  # not ours: ignored
    ])
    assert apply_ack(db, ack) == 3
    assert status_counts(db) == {"pending": 1, "acked": 2, "rejected": 1}
    assert [r.record_id for r in pending_records(db, 10)] == [recs[3].record_id]
    row = db.execute("SELECT reject_reason FROM records WHERE record_id = ?", (recs[2].record_id,)).fetchone()
    assert row[0] == "bad_signature"


def test_chain_continues_across_reopen(tmp_path, device):
    path = tmp_path / "kiosk.db"
    db = open_store(path)
    append_record(db, device, obs())
    db.conn.close()
    db = open_store(path)
    append_record(db, device, obs())
    assert verify_chain(all_records(db)) == []


def test_deleting_a_record_is_detected_by_the_chain(tmp_path, device):
    db = open_store(tmp_path / "kiosk.db")
    for _ in range(4):
        append_record(db, device, obs())
    db.execute("DELETE FROM records WHERE seq = 2")
    problems = verify_chain(all_records(db))
    assert {p.kind for p in problems} >= {"gap", "hash_mismatch"}


WRITER = """
import sys, time
from kiosk.store import open_store, append_record, Observation
from provisioning.identity import load_identity
db = open_store(sys.argv[1]); ident = load_identity(sys.argv[2])
i = 0
while True:
    i += 1
    append_record(db, ident, Observation("emp-%d" % i, "IN", time.time(), "b", time.monotonic_ns(), False,
                                         0.5, None, "m"))
    print(i, flush=True)
"""


def test_kill_9_mid_burst_loses_no_committed_record(tmp_path, device):
    """Every record the writer reported as committed is there after SIGKILL, and the DB is intact."""
    path = tmp_path / "kiosk.db"
    open_store(path).conn.close()
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(tmp_path / "device")],
                            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    committed = 0
    deadline = time.monotonic() + 20
    while committed < 150 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        committed = int(line)
    proc.kill()
    proc.wait()
    assert committed >= 150, "writer did not get going"
    db = open_store(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    recs = all_records(db)
    assert len(recs) >= committed
    assert verify_chain(recs) == []


@pytest.mark.skipif(os.geteuid() != 0 or not Path("/bin/mount").exists(), reason="needs root to mount a tiny tmpfs")
def test_full_disk_gives_a_clear_error_and_keeps_what_was_committed(tmp_path, device):
    mnt = tmp_path / "small"
    mnt.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount tmpfs here: {res.stderr.decode().strip()}")
    try:
        db = open_store(mnt / "kiosk.db")
        written = 0
        with pytest.raises(StoreError, match="cannot take a write"):
            for _ in range(100_000):
                append_record(db, device, obs("x" * 100))
                written += 1
        assert written > 20
        db.conn.close()
        # Free the space the way an operator would, then check nothing committed was lost.
        db = open_store(mnt / "kiosk.db")
        recs = all_records(db)
        assert len(recs) == written
        assert verify_chain(recs) == []
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_full_database_names_the_real_cause(tmp_path, device):
    """SQLITE_FULL (here from a page cap, as on a full card) must surface as itself, not as a rollback error."""
    db = open_store(tmp_path / "kiosk.db")
    append_record(db, device, obs())
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages + 2}")
    with pytest.raises(StoreError, match="full"):
        for _ in range(1000):
            append_record(db, device, obs("y" * 120))
    db.execute("PRAGMA max_page_count = 1000000")
    kept = all_records(db)
    assert len(kept) >= 1 and verify_chain(kept) == []
    append_record(db, device, obs())  # space again: the chain carries on
    assert verify_chain(all_records(db)) == []


def test_a_new_store_and_its_wal_are_owner_only(tmp_path, device):
    db = open_store(tmp_path / "kiosk.db")
    append_record(db, device, obs())
    assert (tmp_path / "kiosk.db-wal").exists()
    for name in ("kiosk.db", "kiosk.db-wal", "kiosk.db-shm"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
