"""Kiosk reports on downlinks (SQLite and PostgreSQL): kept per kind, and a foreign retained message put right."""

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from central_server.downlink.status import ROUTE, record_status
from central_server.downlink.versions import device_downlink, make_gallery
from central_server.ingest.handling import Context, Publish, run_one
from hajiri_wire import topics
from hajiri_wire.downlink import (
    DownlinkStatus,
    encode_status,
)
from tests.central_server.downlink.galleries import content, register


def status(kind, version, outcome, reason=None, current=None) -> bytes:
    return encode_status(DownlinkStatus(device_id="kiosk-01", kind=kind, version=version, outcome=outcome,
                                        reason=reason, detail="d", current_version=current,
                                        at="2026-11-25T09:00:00.000Z"))


def test_reports_are_kept_per_kind_and_a_foreign_retained_message_is_put_right(engine, server_key):
    register(engine, "kiosk-01", X25519PrivateKey.generate())
    with engine.begin() as conn:
        stored = make_gallery(conn, server_key, ["kiosk-01"], content(), actor="t")[0]
    topic = topics.downlink_status("kiosk-01")
    assert record_status(engine, topic, status("gallery", 1, "applied")) == []
    again = record_status(engine, topic, status("gallery", 7, "refused", "bad_signature", current=1))
    assert again == [(stored.topic, stored.envelope)]  # someone replaced the retained gallery: publish ours
    assert record_status(engine, topic, status("gallery", 1, "refused", "stale_version", current=1)) == []
    assert record_status(engine, topics.downlink_status("kiosk-02"), status("gallery", 1, "applied")) == [], \
        "a report claiming another device is ignored"
    assert record_status(engine, topic, b"{bad") == []
    with engine.begin() as conn:
        row = device_downlink(conn, "kiosk-01")["reported"]["gallery"]
    assert row["applied_version"] == 1 and row["refused_count"] == 2
    assert (row["refused_version"], row["refused_reason"]) == (1, "stale_version")


def test_the_servers_own_message_goes_back_retained(engine, server_key):
    register(engine, "kiosk-01", X25519PrivateKey.generate())
    with engine.begin() as conn:
        stored = make_gallery(conn, server_key, ["kiosk-01"], content(), actor="t")[0]
    handled = run_one(Context(engine), ROUTE, topics.downlink_status("kiosk-01"),
                      status("gallery", 9, "refused", "unknown_key", current=1))
    assert handled.publish == [Publish(stored.topic, stored.envelope, qos=1, retain=True)]
    assert handled.rejections == [] and handled.touched == []


def test_a_kiosk_refusing_the_servers_own_latest_version_is_not_answered_for_ever(engine, server_key):
    """A kiosk without the server key refuses every downlink as unknown_key: re-publishing the same version in
    reply was a loop (22 messages a second, a DB write each). The server puts it back once, then stops and the
    fleet shows the kiosk as refusing updates until it applies one."""
    from central_server.devices.fleet import fleet

    register(engine, "kiosk-01", X25519PrivateKey.generate())
    with engine.begin() as conn:
        stored = make_gallery(conn, server_key, ["kiosk-01"], content(), actor="t")[0]
    topic = topics.downlink_status("kiosk-01")
    first = record_status(engine, topic, status("gallery", stored.version, "refused", "unknown_key"))
    assert first == [(stored.topic, stored.envelope)]  # maybe a foreign copy under our number: put ours back once
    for _ in range(5):
        assert record_status(engine, topic, status("gallery", stored.version, "refused", "unknown_key")) == []
    with engine.begin() as conn:
        assert device_downlink(conn, "kiosk-01")["reported"]["gallery"]["refused_count"] == 6
        (kiosk,) = fleet(conn, None, 0, 300)
        assert kiosk["downlink_refused"] == ["gallery"]
    # A foreign version is still put right, and once the kiosk applies ours it no longer needs attention.
    assert record_status(engine, topic, status("gallery", 99, "refused", "bad_signature")) == [
        (stored.topic, stored.envelope)]
    assert record_status(engine, topic, b'{"x": 1}') == []
    later = status("gallery", stored.version, "applied").replace(b"09:00:00", b"09:05:00")
    assert record_status(engine, topic, later) == []
    with engine.begin() as conn:
        assert fleet(conn, None, 0, 300)[0]["downlink_refused"] == []
