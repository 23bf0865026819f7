"""The kiosk's screen: a local page (Chromium in kiosk mode on the Pi) showing name, IN/OUT and time, the
liveness challenge prompt while one is open, and the newest group notices of the site."""

import json
import logging
import math
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pydantic import ValidationError

from hajiri_common.files import write_atomic
from hajiri_common.timefmt import parse_utc_iso
from hajiri_wire.downlink import NoticeList
from kiosk.config import KioskConfig
from kiosk.store import open_store

log = logging.getLogger(__name__)

# How long an event stays on screen as "you"; after that the screen goes back to the clock.
SHOW_SECONDS = 8.0
# The sync agent writes the site's notices (a verified `notices` downlink) here, in its downlink state dir.
NOTICES_FILE = "notices.json"
NOTICES_SHOWN = 3
# The kiosk loop rewrites an open prompt every PROMPT_REFRESH_S; one older than PROMPT_TTL_S was left behind by
# a kiosk that stopped or crashed mid-challenge, and is not shown.
PROMPT_REFRESH_S = 2.0
PROMPT_TTL_S = 6.0
PROMPT_CHARS = 200

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
<body><div id="clock"></div><div id="date"></div><div id="prompt"></div><div id="name"></div><div id="msg"></div>
<div id="notices"></div><div id="warn"></div>
<script src="/screen.js"></script></body></html>
"""

STYLE = """
 body { margin: 0; font-family: sans-serif; background: #10151c; color: #f2f2f2; height: 100vh;
        display: flex; flex-direction: column; align-items: center; justify-content: center; }
 #clock { font-size: 9vh; opacity: .8 } #date { font-size: 4vh; opacity: .6 }
 #name { font-size: 10vh; font-weight: bold; margin-top: 4vh } #msg { font-size: 5vh; margin-top: 2vh }
 .IN { color: #5fd38d } .OUT { color: #f0b35b } .UNKNOWN, .SPOOF { color: #ff7b7b }
 #warn { position: fixed; bottom: 2vh; font-size: 3vh; color: #ffb347 }
 #prompt { font-size: 8vh; font-weight: bold; color: #7fd4ff; margin-top: 3vh; text-align: center }
 #notices { position: fixed; top: 2vh; left: 2vw; width: 30vw; font-size: 2.4vh; opacity: .85 }
 .notice { margin-bottom: 1.5vh; border-left: .4vw solid #7fd4ff; padding-left: 1vw }
 .notice-title { font-weight: bold } .notice-text { white-space: pre-line }
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
    document.getElementById('prompt').textContent = s.prompt || '';
    // Notices are built from elements and textContent only: their text is never parsed as HTML.
    document.getElementById('notices').replaceChildren(...(s.notices || []).map(n => {
      const box = document.createElement('div'), title = document.createElement('div'),
            text = document.createElement('div');
      box.className = 'notice'; title.className = 'notice-title'; text.className = 'notice-text';
      title.textContent = n.date + '  ' + n.title;
      text.textContent = n.text;
      box.append(title, text);
      return box;
    }));
    document.getElementById('warn').textContent = s.warning || '';
  } catch (e) { document.getElementById('warn').textContent = 'kiosk screen: no data'; }
}
setInterval(tick, 1000); tick();
"""


def prompt_path_for(store_path: Path) -> Path:
    """Where the kiosk loop puts the current challenge prompt for the screen process: beside its store."""
    store_path = Path(store_path)
    return store_path.with_name(store_path.name + ".prompt.json")


def notices_path_for(config: KioskConfig) -> Path | None:
    """The sync agent's notices file: in its downlink state dir, where the kiosk's site_config_path points."""
    return None if config.site_config_path is None else config.site_config_path.parent / NOTICES_FILE


def write_prompt(path: Path, prompt: str | None, now: float) -> None:
    """Atomically: the screen never reads half a file. `at` lets it tell a live prompt from a stale one."""
    write_atomic(path, json.dumps({"prompt": prompt, "at": now}).encode(), 0o644)


def read_prompt(path: Path | None, now: float) -> str | None:
    """The prompt to show now: None when there is none, the file is unreadable, or it is stale."""
    if path is None:
        return None
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("prompt"), str) \
            or not isinstance(doc.get("at"), int | float):
        return None
    if not -1.0 <= now - doc["at"] <= PROMPT_TTL_S:  # a second of slack for the two processes' clock reads
        return None
    return doc["prompt"][:PROMPT_CHARS]


class PromptWriter:
    """The kiosk loop's end: writes the pipeline's prompt when it changes, and again every PROMPT_REFRESH_S
    while it is open (a long challenge stays fresh). Never raises: a failed write costs only the prompt."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.last: str | None = None
        self.written_at = -math.inf
        self._warned = False

    def update(self, prompt: str | None, now: float | None = None) -> None:
        if self.path is None:
            return
        now = time.time() if now is None else now
        if prompt == self.last and (prompt is None or now - self.written_at < PROMPT_REFRESH_S):
            return
        try:
            write_prompt(self.path, prompt, now)
        except OSError as e:
            if not self._warned:
                log.warning("challenge prompt not written to %s (the screen will not show it): %s", self.path, e)
                self._warned = True
            return
        self.last, self.written_at = prompt, now


def read_notices(path: Path | None, limit: int = NOTICES_SHOWN) -> list[dict]:
    """The newest `limit` notices from the sync agent's file, checked again like the downlink; [] if none."""
    if path is None:
        return []
    try:
        doc = json.loads(path.read_text())
        notices = NoticeList.model_validate({"notices": doc["notices"]}).notices
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError, ValidationError) as e:
        log.warning("notices file %s unreadable: %s", path, e)
        return []
    return [{"id": n.id, "title": n.title, "text": n.text,
             "date": datetime.fromtimestamp(parse_utc_iso(n.created_at).timestamp()).strftime("%d %b")}
            for n in notices[:limit]]


def screen_state(db, names: dict[str, str], now: float | None = None, *, notices_path: Path | None = None,
                 prompt_path: Path | None = None) -> dict:
    """What the screen shows: the latest event if it is recent, the challenge prompt while one is open, the
    newest notices, and a warning when records are piling up."""
    now = time.time() if now is None else now
    row = db.execute("SELECT person_id, event, wall_time FROM records ORDER BY seq DESC LIMIT 1").fetchone()
    pending = db.execute("SELECT count(*) FROM records WHERE status = 'pending'").fetchone()[0]
    state: dict = {"current": None, "pending": pending, "warning": None, "prompt": read_prompt(prompt_path, now),
                   "notices": read_notices(notices_path)}
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


def make_handler(store_path: Path, names: dict[str, str], notices_path: Path | None = None,
                 prompt_path: Path | None = None) -> type[BaseHTTPRequestHandler]:
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
                state = screen_state(local.db, names, notices_path=notices_path, prompt_path=prompt_path)
                self._send(json.dumps(state).encode(), "application/json")
            else:
                self._send(b"not found", "text/plain", 404)

    return Handler


def serve_screen(store_path: Path, names: dict[str, str], host: str = "127.0.0.1", port: int = 8090, *,
                 notices_path: Path | None = None, prompt_path: Path | None = None) -> ThreadingHTTPServer:
    """A started server (call serve_forever / shutdown). Loopback by default: the screen is for this Pi only.
    The prompt file defaults to the one beside the store (prompt_path_for); notices need notices_path."""
    store_path = Path(store_path)
    return ThreadingHTTPServer((host, port), make_handler(
        store_path, names, notices_path, prompt_path if prompt_path is not None else prompt_path_for(store_path)))
