"""The kiosk screen: shows the latest event with the person's name, then goes back to the clock."""

import json
import threading
import time
import urllib.request

from kiosk.screen import SHOW_SECONDS, screen_state, serve_screen
from kiosk.store import Observation, append_record, open_store


def obs(person, event, at):
    return Observation(person, event, at, "boot", time.monotonic_ns(), True, 0.7, None, "m")


def test_latest_event_is_shown_then_expires(tmp_path, device):
    db = open_store(tmp_path / "kiosk.db")
    assert screen_state(db, {})["current"] is None
    now = time.time()
    append_record(db, device, obs("emp-1", "IN", now))
    state = screen_state(db, {"emp-1": "Asha Verma"}, now=now + 1)
    assert state["current"]["name"] == "Asha Verma" and state["current"]["event"] == "IN"
    assert screen_state(db, {"emp-1": "Asha Verma"}, now=now + SHOW_SECONDS + 1)["current"] is None


def test_unknown_gets_a_neutral_message_and_no_name(tmp_path, device):
    db = open_store(tmp_path / "kiosk.db")
    now = time.time()
    append_record(db, device, obs(None, "UNKNOWN", now))
    current = screen_state(db, {}, now=now)["current"]
    assert current["name"] == "" and "Not recognised" in current["message"]


def test_backlog_warning(tmp_path, device):
    db = open_store(tmp_path / "kiosk.db")
    for _ in range(1001):
        append_record(db, device, obs("emp-1", "IN", time.time() - 60))
    assert "waiting to sync" in screen_state(db, {})["warning"]


def test_served_over_http(tmp_path, device):
    db = open_store(tmp_path / "kiosk.db")
    append_record(db, device, obs("emp-2", "OUT", time.time()))
    server = serve_screen(tmp_path / "kiosk.db", {"emp-2": "<b>Ravi</b>"}, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        page = urllib.request.urlopen(base + "/", timeout=5)
        assert page.headers["Content-Security-Policy"] == "default-src 'self'"
        state = json.loads(urllib.request.urlopen(base + "/state.json", timeout=5).read())
        # The name travels as data; the page puts it in with textContent, never as HTML.
        assert state["current"]["name"] == "<b>Ravi</b>" and state["current"]["event"] == "OUT"
        assert "textContent" in urllib.request.urlopen(base + "/screen.js", timeout=5).read().decode()
    finally:
        server.shutdown()
        server.server_close()


def test_page_has_no_inline_style_or_script_so_the_strict_csp_holds():
    from kiosk.screen import PAGE

    assert "<style" not in PAGE and "<script>" not in PAGE and " on" not in PAGE.replace("\n", " ").lower().split(
        "<body")[1].split(">")[0]
