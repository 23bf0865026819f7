"""/kiosks: IT staff and the state admin see the fleet from real heartbeats (age in words, silent ones first and
marked, queue, clock, temperature, models, liveness, revoked); a site-scoped IT login its site only; others 403;
a GET writes nothing."""

import re
import time

import sqlalchemy as sa

from central_server.access.users import create_user
from central_server.db.schema import metadata
from central_server.devices.heartbeat import ingest_heartbeat
from central_server.devices.registry import revoke_device
from central_server.downlink.status import record_status
from hajiri_common.timefmt import utc_iso
from hajiri_wire import Heartbeat, topics
from hajiri_wire.downlink import DownlinkStatus, encode_status
from hajiri_wire.messages import encode_heartbeat
from tests.central_server.web.world import PASSWORD, register_kiosk, sign_in


def beat(engine: sa.Engine, device_id: str, age_s: float, **kw) -> None:
    """A heartbeat through the real handler, received age_s seconds ago."""
    received = time.time() - age_s
    fields = {"uptime_s": 60.0, "clock_synced": True, "queue_depth": 0, **kw}
    hb = Heartbeat(device_id=device_id, sent_at=utc_iso(received), boot_id="boot-a", mono_ns=10**12, **fields)
    outcome = ingest_heartbeat(engine, topics.heartbeat(device_id), encode_heartbeat(hb),
                               received_unix_ms=int(received * 1000))
    assert outcome.rejection is None, outcome.rejection


def rows(html: str) -> list[list[str]]:
    body = html.split("<tbody>")[1]
    return [[" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def fleet(world: sa.Engine) -> None:
    with world.begin() as conn:
        for device, site in (("kiosk-ok", "office-1"), ("kiosk-quiet", "office-1"), ("kiosk-never", "office-2"),
                             ("kiosk-old", "office-2")):
            register_kiosk(conn, device, site)
    beat(world, "kiosk-ok", 120, queue_depth=3, oldest_unsent_age_s=400.0, clock_offset_s=-0.4, cpu_temp_c=81.5,
         model_versions={"sface": "2021dec", "yunet": "2023mar"}, liveness_enabled=True)
    beat(world, "kiosk-quiet", 3 * 3600, liveness_enabled=False, last_error="camera <not> found", clock_offset_s=95.0)
    beat(world, "kiosk-old", 30)
    with world.begin() as conn:
        revoke_device(conn, "kiosk-old", actor="test")
    refusal = DownlinkStatus(device_id="kiosk-quiet", kind="config", version=2, outcome="refused",
                             reason="unknown_key", detail="no server key", at="2026-11-25T09:00:00.000Z")
    record_status(world, topics.downlink_status("kiosk-quiet"), encode_status(refusal))


def test_who_may_see_the_kiosks(client, world):
    for username, code in (("it-1", 200), ("admin", 200), ("head-1", 403), ("do-sehore", 403), ("emp-1", 403),
                           ("warden-1", 403)):
        client.cookies.clear()
        sign_in(client, username)
        assert client.get("/kiosks").status_code == code, username


def test_the_fleet_from_real_heartbeats_silent_first(client, world):
    fleet(world)
    sign_in(client, "it-1")
    html = client.get("/kiosks").text
    table = rows(html)
    assert [r[0] for r in table] == ["kiosk-never", "kiosk-quiet", "kiosk-ok", "kiosk-old"]
    never, quiet, ok, old = table
    assert never[2] == "✗ Silent" and never[3] == "never"
    assert quiet[2] == "✗ Silent" and quiet[3] == "3 h ago" and "clock off" in quiet[5] and quiet[8] == "Off"
    assert "camera &lt;not&gt; found" in html and "<not>" not in html
    assert quiet[9].startswith("Refuses the server&#39;s updates: config") and "Refuses" not in ok[9]
    assert ok[2] == "✓ Working" and ok[3] == "2 min ago" and ok[4] == "3 oldest 6 min ago"
    assert ok[5] == "−0.4 s" and ok[6] == "81.5 °C hot" and ok[7] == "sface 2021dec yunet 2023mar" and ok[8] == "On"
    assert old[2] == "— Revoked"
    assert re.search(r'<li class="bad"><span class="n">2</span>Silent', html)
    assert "जिला शिक्षा कार्यालय, सीहोर" in ok[1]


def test_a_site_scoped_it_login_sees_its_site_only(client, world):
    fleet(world)
    with world.begin() as conn:
        create_user(conn, "it-raisen", PASSWORD, "it_staff", actor="test", site_id="office-2")
    sign_in(client, "it-raisen")
    assert [r[0] for r in rows(client.get("/kiosks").text)] == ["kiosk-never", "kiosk-old"]


def test_hindi_words_and_a_get_writes_nothing(client, world):
    fleet(world)
    signed = sign_in(client, "it-1")
    signed.post_form("/language", {"language": "hi", "next": "/kiosks"})

    def counts() -> dict[str, int]:
        with world.connect() as conn:
            return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                    for t in metadata.sorted_tables}

    before = counts()
    html = client.get("/kiosks").text
    assert "2 मिनट पहले" in html and "3 घंटे पहले" in html and "कभी नहीं" in html and "संपर्क नहीं" in html
    assert counts() == before
