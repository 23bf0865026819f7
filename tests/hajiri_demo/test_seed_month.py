"""A seeded kiosk's store: the plan's events as records signed and chained by the kiosk's own store, pending for
its sync agent, at the planned times, with the site's identity."""

from datetime import UTC, date, datetime

from hajiri_demo.seed_month import due, write_kiosk_history
from hajiri_demo.seed_org import HOSTEL
from hajiri_demo.seed_plan import plan_month
from hajiri_wire import load_public_key, verify_chain, verify_record
from kiosk.store import all_records, open_store, status_counts
from provisioning.identity import load_identity


def test_the_hostel_kiosks_month_is_a_whole_signed_chain(tmp_path):
    plan = plan_month(0, date(2026, 12, 3))
    events = [e for e in due(plan.events, datetime(2026, 12, 3, 6, 0, tzinfo=UTC))
              if e.via == "kiosk" and e.site_id == HOSTEL.site_id]
    assert write_kiosk_history(tmp_path / "device", tmp_path / "kiosk.db", HOSTEL, events) == len(events)
    identity = load_identity(tmp_path / "device")
    assert (identity.device_id, identity.site_id) == (HOSTEL.device_id, HOSTEL.site_id)
    db = open_store(tmp_path / "kiosk.db")
    try:
        records = all_records(db)
        assert status_counts(db)["pending"] == len(events)
    finally:
        db.conn.close()
    assert verify_chain(records) == []
    public = load_public_key(identity.public_key_b64)
    for rec in records:
        verify_record(rec, public)
    assert [(r.person_id, r.event) for r in records] == [(e.employee_id, e.kind) for e in events]
    assert [datetime.fromisoformat(r.wall_time.replace("Z", "+00:00")) for r in records] == [
        e.at.astimezone(UTC).replace(microsecond=e.at.microsecond // 1000 * 1000) for e in events]
    assert {r.event for r in records} == {"IN", "OUT", "UNKNOWN"}
    assert all(r.clock_synced and r.mono_ns >= 0 for r in records)
