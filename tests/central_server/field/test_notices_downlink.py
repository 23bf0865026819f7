"""Notices as a downlink, in the central DB (SQLite and PostgreSQL): which kiosks a notice reaches, and each
kiosk's envelope derived from the notices table (newest first, versioned by the newest id, deterministic)."""

import pytest

from central_server.devices.registry import register_device, revoke_device
from central_server.downlink.versions import (
    NOTICES_ON_KIOSK,
    device_downlink,
    latest_versions,
    make_notices,
    mark_published,
    notice_devices,
)
from central_server.field.tasks import send_notice, sites_reached
from central_server.org.employees import set_site_details
from central_server.org.sites import create_site
from hajiri_wire import DeviceKey
from hajiri_wire.downlink import MAX_BYTES, NOTICE_TEXT_CHARS, decode_envelope, parse_payload, verify_envelope

SITES = {"office-1": "Khurda", "office-2": " khurda", "office-3": "Cuttack", "office-4": None}
DEVICES = {"kiosk-01": "office-1", "kiosk-02": "office-2", "kiosk-2b": "office-2", "kiosk-03": "office-3",
           "kiosk-04": "office-4", "kiosk-gone": "office-1"}


@pytest.fixture
def world(engine, new_kiosk):
    with engine.begin() as conn:
        for site, district in SITES.items():
            create_site(conn, site, site, "office", actor="t")
            if district is not None:
                set_site_details(conn, site, {"district": district}, actor="t")
        for device_id, site in DEVICES.items():
            register_device(conn, device_id, site, new_kiosk(device_id, site).key.public_b64, actor="t")
        revoke_device(conn, "kiosk-gone", actor="t")
    return engine


@pytest.fixture(scope="module")
def key() -> DeviceKey:
    return DeviceKey.generate()


def send(conn, audience: str, title: str, body: str = "Details on the board.", **target) -> dict:
    return send_notice(conn, audience, title, body, actor="officer", **target)


def opened(stored, key: DeviceKey, last: int | None = None):
    env = decode_envelope(stored.envelope, "notices")
    verify_envelope(env, server_key=key.public, device_id=stored.device_id, last_version=last, topic_kind="notices")
    return env, parse_payload(env).notices


def test_a_notice_reaches_the_active_kiosks_of_its_site_district_or_everyone(world):
    with world.begin() as conn:
        site = send(conn, "site", "Site", site_id="office-2")
        district = send(conn, "district", "District", district="KHURDA ")
        everyone = send(conn, "all", "All")
        assert sites_reached(conn, site) == ["office-2"]
        assert sites_reached(conn, district) == ["office-1", "office-2"]  # trimmed, any case
        assert sites_reached(conn, everyone) is None
        assert notice_devices(conn, site) == [("kiosk-02", "office-2"), ("kiosk-2b", "office-2")]
        assert notice_devices(conn, district) == [("kiosk-01", "office-1"), ("kiosk-02", "office-2"),
                                                  ("kiosk-2b", "office-2")]  # not the revoked kiosk-gone
        assert [d for d, _ in notice_devices(conn, everyone)] == ["kiosk-01", "kiosk-02", "kiosk-03",
                                                                  "kiosk-04", "kiosk-2b"]
        nowhere = send(conn, "district", "Nobody there", district="Puri")
        assert notice_devices(conn, nowhere) == []


def test_each_kiosk_gets_its_sites_newest_notices_signed_and_versioned_by_the_newest_id(world, key):
    with world.begin() as conn:
        first = send(conn, "site", "Office 1", site_id="office-1")
        send(conn, "site", "Office 3 only", site_id="office-3")
        last = send(conn, "district", "Khurda", "x" * (NOTICE_TEXT_CHARS + 50), district="khurda")
        stored = {s.device_id: s for s in make_notices(conn, key, notice_devices(conn, last))}
        again = make_notices(conn, key, [("kiosk-01", "office-1")])
    assert sorted(stored) == ["kiosk-01", "kiosk-02", "kiosk-2b"]
    env, notices = opened(stored["kiosk-01"], key, last=first["id"])
    assert env.version == last["id"] and env.issued_at == last["created_at"]
    assert [n.title for n in notices] == ["Khurda", "Office 1"]
    assert len(notices[0].text) == NOTICE_TEXT_CHARS and notices[0].text.endswith("…")
    assert [n.title for n in opened(stored["kiosk-02"], key)[1]] == ["Khurda"]
    assert stored["kiosk-01"].topic == "hajiri/v1/dev/kiosk-01/down/notices" and stored["kiosk-01"].id is None
    assert again[0].envelope == stored["kiosk-01"].envelope, "the same notices must give the same bytes"


def test_many_long_notices_are_cut_to_the_size_cap_keeping_the_newest(world, key):
    long_devanagari = "सूचना " * 200  # non-ASCII travels as \\uXXXX in canonical JSON: 6 bytes a character
    with world.begin() as conn:
        for i in range(NOTICES_ON_KIOSK):
            send(conn, "site", f"Notice {i} " + "शीर्षक" * 30, long_devanagari, site_id="office-3")
        [stored] = make_notices(conn, key, [("kiosk-03", "office-3")])
    assert len(stored.envelope) <= MAX_BYTES["notices"]
    notices = opened(stored, key)[1]
    assert 1 <= len(notices) < NOTICES_ON_KIOSK
    assert notices[0].title.startswith(f"Notice {NOTICES_ON_KIOSK - 1} ")


def test_republish_and_the_device_view_include_the_derived_notices(world, key):
    with world.begin() as conn:
        assert [s.kind for s in latest_versions(conn, "kiosk-04", key)] == []
        notice = send(conn, "all", "Holiday")
        kinds = {s.kind: s for s in latest_versions(conn, "kiosk-04", key)}
        assert list(kinds) == ["notices"] and kinds["notices"].version == notice["id"]
        assert latest_versions(conn, "kiosk-04") == [], "without the key nothing can be signed"
        mark_published(conn, [None])  # a derived version has no row to mark
        view = device_downlink(conn, "kiosk-04")
    assert view["issued"]["notices"]["version"] == notice["id"] and "Holiday" in view["issued"]["notices"]["summary"]
