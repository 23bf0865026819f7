"""The routing table through dispatch (SQLite and PostgreSQL): every kind routed, a topic of no kind refused as
records were, what each kind publishes, and the device's standing checked for all but downlink reports."""

import pytest
import sqlalchemy as sa

from central_server.db.schema import downlink_status, rejections
from central_server.devices.registry import revoke_device
from central_server.ingest.handling import Context, Publish
from central_server.ingest.rejections import IngestStats
from central_server.ingest.routes import ROUTES, dispatch, route_of
from hajiri_wire import DeviceKey, decode_ack, topics
from hajiri_wire.key_rotation import decode_answer, verify_answer
from tests.central_server.ingest.uplinks import payload_of


def reasons(engine) -> list[str]:
    with engine.connect() as conn:
        return [r.reason for r in conn.execute(sa.select(rejections.c.reason).order_by(rejections.c.id))]


def test_every_uplink_kind_has_its_route_and_policies():
    assert sorted(ROUTES) == sorted(topics.UPLINK_KINDS)
    assert {k: (r.keep_refusals, r.on_error) for k, r in ROUTES.items()} == {
        "records": (True, "store"), "heartbeat": (True, "count"), "evidence": (True, "count"),
        "key_rotation": (True, "raise"), "downlink_status": (False, "raise")}
    assert route_of(None) is ROUTES["records"] and route_of("selfie") is ROUTES["records"]


def test_a_message_on_no_uplink_topic_is_refused_as_a_records_batch(engine, registered):
    stats = IngestStats()
    handled = dispatch(Context(engine, stats), "hajiri/v1/dev/kiosk-01/up", payload_of("records", registered))
    assert handled.report.batch_reason == "bad_topic" and handled.publish == []
    assert stats.snapshot()["batches"] == 1 and stats.snapshot()["rejected"] == {"bad_topic": 1}
    assert reasons(engine) == ["bad_topic"]


def test_a_stored_batch_publishes_its_ack_on_the_devices_acks_topic(engine, registered):
    stats = IngestStats()
    handled = dispatch(Context(engine, stats), topics.records("kiosk-01"), payload_of("records", registered))
    (out,) = handled.publish
    assert (out.topic, out.qos, out.retain, out.ack) == (topics.acks("kiosk-01"), 1, False, True)
    assert [r.status for r in decode_ack(out.payload).results] == ["stored"]
    assert handled.touched == [("emp-1", "2026-11-25T09:00:00.000Z")]
    assert stats.snapshot()["stored"] == 1 and stats.snapshot()["acks_sent"] == 0  # counted when published


@pytest.mark.parametrize("kind", ["records", "heartbeat", "evidence", "key_rotation"])
def test_a_revoked_device_is_refused_for_every_kind_it_could_change_something_with(engine, registered, kind):
    server_key = DeviceKey.generate()
    payload = payload_of(kind, registered)
    with engine.begin() as conn:
        revoke_device(conn, "kiosk-01", actor="test")
    stats = IngestStats()
    handled = dispatch(Context(engine, stats, signing_key=lambda: server_key), topics.uplink(kind, "kiosk-01"),
                       payload)
    assert [r.reason for r in handled.rejections] == ["revoked_device"] == reasons(engine)
    assert stats.snapshot()["rejected"] == {"revoked_device": 1}
    if kind == "key_rotation":  # its own request (signed, on its topic): told why, signed by the server
        (out,) = handled.publish
        answer = decode_answer(out.payload)
        verify_answer(answer, server_key.public)
        assert out.topic == topics.key_rotation_answer("kiosk-01")
        assert (answer.outcome, answer.reason) == ("refused", "revoked_device")
    else:
        assert handled.publish == []


def test_a_downlink_report_is_kept_whatever_the_devices_standing_and_publishes_nothing_of_its_own(
        engine, registered):
    with engine.begin() as conn:
        revoke_device(conn, "kiosk-01", actor="test")
    stats = IngestStats()
    handled = dispatch(Context(engine, stats), topics.downlink_status("kiosk-01"),
                       payload_of("downlink_status", registered))
    assert handled.publish == [] and handled.report == [] and stats.snapshot()["rejected"] == {}
    with engine.connect() as conn:
        assert conn.execute(sa.select(downlink_status.c.applied_version)).scalar_one() == 1
    assert dispatch(Context(engine, stats), topics.downlink_status("kiosk-02"),
                    payload_of("downlink_status", registered)).report == []  # another device's: only logged
    assert reasons(engine) == [] and stats.snapshot()["rejected"] == {}


def test_publish_defaults_are_a_plain_qos1_message():
    assert Publish("t", b"p") == Publish("t", b"p", qos=1, retain=False, ack=False)
