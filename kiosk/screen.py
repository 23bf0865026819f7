"""The kiosk's screen: a local page (Chromium in kiosk mode on the Pi) showing name, IN/OUT and time."""

import json
import logging
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from hajiri_common.timefmt import parse_utc_iso
from kiosk.store import open_store

log = logging.getLogger(__name__)

# How long an event stays on screen as "you"; after that the screen goes back to the clock.
SHOW_SECONDS = 8.0

# What the screen says. It never accuses anyone: an unknown face or a suspected photo gets a neutral instruction.
MESSAGES = {
    "IN": "Welcome",
    "OUT": "Goodbye",
    "UNKNOWN": "Not recognised. Please look at the camera or see the office.",
    "SPOOF": "Please face the camera yourself, without a photo or phone.",
}

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Hajiri</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/screen.css"></head>
<body><div id="clock"></div><div id="date"></div><div id="name"></div><div id="msg"></div><div id="warn"></div>
<script src="/screen.js"></script></body></html>
"""

STYLE = """
 body { margin: 0; font-family: sans-serif; background: #10151c; color: #f2f2f2; height: 100vh;
        display: flex; flex-direction: column; align-items: center; justify-content: center; }
 #clock { font-size: 9vh; opacity: .8 } #date { font-size: 4vh; opacity: .6 }
 #name { font-size: 10vh; font-weight: bold; margin-top: 4vh } #msg { font-size: 5vh; margin-top: 2vh }
 .IN { color: #5fd38d } .OUT { color: #f0b35b } .UNKNOWN, .SPOOF { color: #ff7b7b }
 #warn { position: fixed; bottom: 2vh; font-size: 3vh; color: #ffb347 }
"""

# Inline style and script would need a looser Content-Security-Policy; separate files keep it at 'self'.
SCRIPT = """
async function tick() {
  const now = new Date();
  document.getElementById('clock').textContent = now.toLocaleTimeString();
  document.getElementById('date').textContent = now.toLocaleDateString(undefined,
    {weekday: 'long', day: 'numeric', month: 'long'});
  try {
    const r = await fetch('/state.json', {cache: 'no-store'});
    const s = await r.json();
    const name = document.getElementById('name'), msg = document.getElementById('msg');
    if (s.current) {
      name.textContent = s.current.name ? s.current.event + '  ' + s.current.name : '';
      name.className = msg.className = s.current.event;
      msg.textContent = s.current.message + '  ' + s.current.local_time;
    } else { name.textContent = ''; msg.textContent = ''; }
    document.getElementById('warn').textContent = s.warning || '';
  } catch (e) { document.getElementById('warn').textContent = 'kiosk screen: no data'; }
}
setInterval(tick, 1000); tick();
"""


def screen_state(db, names: dict[str, str], now: float | None = None) -> dict:
    """What the screen shows: the latest event if it is recent, plus a warning when records are piling up."""
    now = time.time() if now is None else now
    row = db.execute("SELECT person_id, event, wall_time FROM records ORDER BY seq DESC LIMIT 1").fetchone()
    pending = db.execute("SELECT count(*) FROM records WHERE status = 'pending'").fetchone()[0]
    state: dict = {"current": None, "pending": pending, "warning": None}
    if row is not None:
        person_id, event, wall_time = row
        at = parse_utc_iso(wall_time).timestamp()
        if 0 <= now - at <= SHOW_SECONDS:
            state["current"] = {
                "event": event,
                "name": names.get(person_id, person_id) if person_id else "",
                "message": MESSAGES.get(event, ""),
                "local_time": datetime.fromtimestamp(at).strftime("%H:%M"),
            }
    if pending > 1000:
        state["warning"] = f"{pending} records waiting to sync (attendance is saved on this kiosk)"
    return state


def make_handler(store_path: Path, names: dict[str, str]) -> type[BaseHTTPRequestHandler]:
    local = threading.local()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt: str, *args: object) -> None:  # quiet: one line a second is noise
            log.debug(fmt, *args)

        def _send(self, body: bytes, ctype: str, status: int = 200) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Security-Policy", "default-src 'self'")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path == "/":
                self._send(PAGE.encode(), "text/html; charset=utf-8")
            elif self.path == "/screen.css":
                self._send(STYLE.encode(), "text/css")
            elif self.path == "/screen.js":
                self._send(SCRIPT.encode(), "application/javascript")
            elif self.path == "/state.json":
                if not hasattr(local, "db"):
                    local.db = open_store(store_path)
                self._send(json.dumps(screen_state(local.db, names)).encode(), "application/json")
            else:
                self._send(b"not found", "text/plain", 404)

    return Handler


def serve_screen(store_path: Path, names: dict[str, str], host: str = "127.0.0.1", port: int = 8090
                 ) -> ThreadingHTTPServer:
    """A started server (call serve_forever / shutdown). Loopback by default: the screen is for this Pi only."""
    return ThreadingHTTPServer((host, port), make_handler(Path(store_path), names))
