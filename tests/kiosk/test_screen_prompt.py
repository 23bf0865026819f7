"""The liveness challenge prompt on the kiosk screen: the kiosk loop puts the pipeline's prompt in a small file
beside its store while a challenged track is open; the screen shows it, and not once it is stale or cleared."""

import json
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from edge_models.opencv_runtime import Detector, Embedder, read_image
from kiosk.config import KioskConfig
from kiosk.gallery import Gallery
from kiosk.liveness.challenge import PROMPTS
from kiosk.runner import run_kiosk
from kiosk.screen import (
    PROMPT_REFRESH_S,
    PROMPT_TTL_S,
    PromptWriter,
    prompt_path_for,
    screen_state,
    serve_screen,
    write_prompt,
)
from kiosk.store import open_store
from model_lab.liveness import attacks

T0 = time.mktime((2025, 11, 25, 9, 0, 0, 0, 0, -1))


def shown(store: Path, now: float | None = None) -> str | None:
    return screen_state(open_store(store), {}, now, prompt_path=prompt_path_for(store))["prompt"]


def test_the_prompt_is_shown_while_fresh_and_not_once_stale_cleared_or_unreadable(tmp_path):
    store = tmp_path / "kiosk.db"
    path = prompt_path_for(store)
    assert path.parent == tmp_path and shown(store) is None  # no file yet
    writer = PromptWriter(path)
    now = time.time()
    writer.update(PROMPTS["turn"], now)
    assert shown(store, now + 1) == "Please turn your head a little"
    assert shown(store, now + PROMPT_TTL_S + 0.5) is None, "a prompt left behind by a stopped kiosk expires"
    writer.update(PROMPTS["turn"], now + PROMPT_REFRESH_S / 2)  # unchanged and fresh: not rewritten
    assert json.loads(path.read_text())["at"] == now
    writer.update(PROMPTS["turn"], now + PROMPT_REFRESH_S)  # still open: rewritten, so it stays fresh
    assert shown(store, now + PROMPT_TTL_S + 1) == "Please turn your head a little"
    writer.update(None, now + 3)
    assert shown(store, now + 3) is None
    path.write_text("{half a fi")
    assert shown(store) is None
    write_prompt(path, "x" * 1000, time.time())
    assert len(shown(store)) == 200


def test_a_failed_prompt_write_does_not_stop_the_kiosk(tmp_path, caplog):
    writer = PromptWriter(tmp_path / "missing-dir" / "kiosk.db.prompt.json")
    writer.update(PROMPTS["blink"])
    writer.update(PROMPTS["turn"])
    assert writer.last is None and caplog.text.count("challenge prompt not written") == 1


def test_the_screen_serves_the_prompt_from_beside_the_store(tmp_path):
    store = tmp_path / "kiosk.db"
    open_store(store).close()
    server = serve_screen(store, {}, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert json.loads(urllib.request.urlopen(base + "/state.json", timeout=5).read())["prompt"] is None
        write_prompt(prompt_path_for(store), PROMPTS["blink"], time.time())
        assert json.loads(urllib.request.urlopen(base + "/state.json", timeout=5).read())["prompt"] == "Please blink"
        page = urllib.request.urlopen(base + "/", timeout=5).read().decode()
        script = urllib.request.urlopen(base + "/screen.js", timeout=5).read().decode()
    finally:
        server.shutdown()
        server.server_close()
    assert 'id="prompt"' in page and "getElementById('prompt').textContent = s.prompt" in script


@pytest.mark.shared_data
def test_the_prompt_file_appears_while_a_challenged_track_is_open(tmp_path, device, shared_data):
    detector, embedder = Detector(), Embedder()
    photo = next(img for p in sorted((shared_data / "faces" / "lfw_dev").glob("*/*.jpg"))[1::97]
                 if len(detector.detect(img := read_image(p))) == 1)
    # A band this wide makes every track doubtful: the print attack is challenged to turn, and fails.
    frames = attacks.attack_track(photo, "print", 20, seed=2) + [attacks.background((480, 640), 3)] * 8
    store = tmp_path / "kiosk.db"
    config = KioskConfig(device_dir=tmp_path / "device", store_path=store, gallery_path=tmp_path / "g.hjg",
                         liveness={"challenge": {"enabled": True, "kind": "turn", "band": 0.99}})
    seen: list[str | None] = []

    def feed():
        for i, frame in enumerate(frames):
            seen.append(shown(store))  # what the screen shows after frame i-1 went through the pipeline
            yield i, frame, T0 + i / 10

    stats = run_kiosk(config, feed(), identity=device, gallery=Gallery(), detector=detector, embedder=embedder)
    assert stats.records_written == 1
    assert "Please turn your head a little" in seen and seen[0] is None
    assert seen[-1] is None, "the prompt is cleared once the track has left"
    assert json.loads(prompt_path_for(store).read_text())["prompt"] is None and shown(store) is None
    event = open_store(store).execute("SELECT event FROM records").fetchone()[0]
    assert event == "SPOOF"
