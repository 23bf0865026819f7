"""Runner: decisions become signed, chained records; a store that refuses writes does not stop the kiosk; CLIs."""

import argparse
import csv
import json
import os
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_models import thresholds
from edge_models.opencv_runtime import MODEL_VERSION, Detector, Embedder, read_image
from hajiri_common.config import ConfigError, parse_config
from hajiri_demo.walkpast import feathered_paste
from hajiri_wire import verify_chain, verify_record
from kiosk import cli as kiosk_cli
from kiosk import clock, enrol_cli
from kiosk.camera import Frame
from kiosk.config import KioskConfig
from kiosk.gallery import Gallery, GalleryError, build_gallery, load_gallery
from kiosk.runner import run_kiosk
from kiosk.store import all_records, open_store, status_counts
from model_lab.evaluation.labelled import load_identities
from provisioning.identity import DeviceIdentity

T0 = 1_764_057_600.0


def background(size: tuple[int, int] = (480, 640)) -> np.ndarray:
    h, w = size
    rng = np.random.default_rng(5)
    grad = np.linspace(50, 170, w, dtype=np.float32)[None, :, None] * np.ones((h, 1, 3), np.float32)
    return np.clip(grad + rng.normal(0, 5, (h, w, 3)), 0, 255).astype(np.uint8)


def walk_frames(photo: np.ndarray, detector: Detector, n: int = 15) -> list[np.ndarray]:
    """The photo's face pasted onto a 640x480 background, growing and moving as someone approaches."""
    f = max(detector.detect(photo), key=lambda f: f.size)
    side = int(2.2 * f.size)
    cx, cy = int(f.box[0] + f.box[2] / 2), int(f.box[1] + f.box[3] / 2)
    padded = cv2.copyMakeBorder(photo, side, side, side, side, cv2.BORDER_REPLICATE)
    crop = padded[cy + side // 2: cy + side + side // 2, cx + side // 2: cx + side + side // 2]
    frames = []
    for i in range(n):
        frame, s = background(), int((70 + 4 * i) * 2.2)
        # Feathered, not a hard-edged square: that would be a photo held up, a SPOOF to liveness.
        feathered_paste(frame, cv2.resize(crop, (s, s), interpolation=cv2.INTER_AREA), 80 + 14 * i, 40 + 2 * i)
        frames.append(frame)
    return frames + [background()] * 8  # they leave: the track ends


def run_cli(module, argv: list[str]) -> int:
    """A subcommand as `hajiri` runs it (configure + run), without importing every other subcommand."""
    parser = argparse.ArgumentParser()
    module.configure(parser)
    return module.run(parser.parse_args(argv))


@pytest.fixture(scope="module")
def models() -> tuple[Detector, Embedder]:
    return Detector(), Embedder()


def make_config(tmp_path: Path, device: DeviceIdentity, **kw) -> KioskConfig:
    return KioskConfig(device_dir=tmp_path / "device", store_path=tmp_path / "records.db",
                       gallery_path=tmp_path / "gallery.hjg", source="folder:/nonexistent", **kw)


def test_clock_facts() -> None:
    assert clock.boot_id() == clock.boot_id() and len(clock.boot_id()) <= 64
    a = clock.mono_ns()
    assert clock.mono_ns() >= a > 0
    assert isinstance(clock.clock_synced(), bool)


def test_config_defaults_and_validation() -> None:
    cfg = KioskConfig()
    assert cfg.match_threshold == thresholds.match_threshold() and cfg.match_margin == thresholds.match_margin()
    assert cfg.direction == "toggle" and cfg.debounce_minutes == 5
    assert cfg.key_path == Path(str(cfg.gallery_path) + ".key")
    for bad, named in [({"match_threshold": 1.2}, "match_threshold"), ({"direction": "sideways"}, "direction"),
                       ({"match_threshold": 0.4, "match_margin": 0.5}, "match_margin .* must be below"),
                       ({"track": {"max_missed": -1}}, "track.max_missed"),
                       ({"matchthreshold": 0.5}, "matchthreshold: unknown key")]:
        with pytest.raises(ConfigError, match=named):
            parse_config(KioskConfig, bad)


def test_runner_on_blank_frames_writes_stats_without_shared_data(tmp_path: Path, device, models) -> None:
    Gallery().save(tmp_path / "gallery.hjg")
    cfg = make_config(tmp_path, device, stats_path=tmp_path / "stats.json", decisions_log=tmp_path / "d.jsonl")
    # tuples and the camera's Frame objects are both accepted
    frames = [(i, background(), T0 + i / 10) for i in range(4)]
    frames += [Frame(4, background(), T0 + 0.4), (5, None, T0 + 0.5)]
    stats = run_kiosk(cfg, frames, detector=models[0], embedder=models[1])
    assert stats.records_written == 0 and stats.store_errors == 0
    saved = json.loads((tmp_path / "stats.json").read_text())
    assert saved["frames"] == 6 and saved["bad_frames"] == 1 and saved["decisions"] == {}
    assert saved["timings_ms"]["detect"]["count"] == 5
    assert (tmp_path / "d.jsonl").read_text() == ""
    assert status_counts(open_store(tmp_path / "records.db"))["pending"] == 0


def test_gallery_from_another_model_is_refused(tmp_path: Path, device, models) -> None:
    g = Gallery(model_version="some-other-recogniser")
    g.add("emp-1", "One", np.ones(128, np.float32))
    g.save(tmp_path / "gallery.hjg")
    with pytest.raises(GalleryError, match="re-enrol"):
        run_kiosk(make_config(tmp_path, device), [], embedder=models[1])


def test_stop_event_and_max_frames(tmp_path: Path, device, models) -> None:
    Gallery().save(tmp_path / "gallery.hjg")
    stop = threading.Event()

    def endless():
        i = 0
        while True:
            if i == 7:
                stop.set()
            yield i, background(), T0 + i
            i += 1

    assert run_kiosk(make_config(tmp_path, device), endless(), stop, embedder=models[1]).pipeline["frames"] == 7
    limited = run_kiosk(make_config(tmp_path, device, max_frames=3), endless(), embedder=models[1])
    assert limited.pipeline["frames"] == 3


@pytest.fixture(scope="module")
def celeba(shared_data: Path, models) -> dict:
    detector, embedder = models
    root = shared_data / "faces" / "celeba_dev"
    by_person = load_identities(root)
    ids = sorted(by_person)
    known, stranger = ids[0], ids[57]
    gallery, _ = build_gallery([(p, f"Person {p}", [root / r for r in by_person[p][:3]]) for p in ids[:5]],
                               detector, embedder)
    single = [r for r in by_person[known][3:] if len(detector.detect(read_image(root / r))) == 1]
    return {"gallery": gallery, "known": known, "walk": walk_frames(read_image(root / single[0]), detector),
            "stranger_walk": walk_frames(read_image(root / by_person[stranger][0]), detector)}


@pytest.mark.shared_data
def test_decisions_become_signed_chained_records_and_readonly_store_is_survived(
        tmp_path: Path, device: DeviceIdentity, models, celeba) -> None:
    celeba["gallery"].save(tmp_path / "gallery.hjg")
    cfg = make_config(tmp_path, device, decisions_log=tmp_path / "decisions.jsonl", debounce_minutes=5)
    db = open_store(cfg.store_path)
    walks = [celeba["walk"], celeba["stranger_walk"], celeba["walk"], celeba["walk"]]
    starts = [T0, T0 + 60, T0 + 3600, T0 + 7200]

    def frames():
        index = 0
        for n, (walk, t0) in enumerate(zip(walks, starts, strict=True)):
            # the 3rd walk-past happens while the store refuses writes (read-only media / disk full)
            db.execute(f"PRAGMA query_only = {'ON' if n == 2 else 'OFF'}")
            for i, image in enumerate(walk):
                yield index, image, t0 + i / 10
                index += 1
        db.execute("PRAGMA query_only = OFF")

    stats = run_kiosk(cfg, frames(), identity=device, detector=models[0], embedder=models[1], db=db)
    assert stats.store_errors == 1 and stats.records_written == 3
    assert stats.pipeline["frames"] == sum(len(w) for w in walks)  # kept running after the failed write

    records = all_records(db)
    assert [(r.person_id, r.event) for r in records] == [
        (celeba["known"], "IN"), (None, "UNKNOWN"), (celeba["known"], "IN")]  # the lost OUT is logged, not stored
    assert verify_chain(records) == []
    for r in records:
        verify_record(r, device.key.public)
        assert r.device_id == "kiosk-01" and r.model_version == MODEL_VERSION
        assert r.liveness_score is not None and 0.0 <= r.liveness_score <= 1.0  # liveness is on by default
        assert r.boot_id == clock.boot_id() and r.mono_ns > 0
    assert records[0].match_score >= cfg.match_threshold

    lines = [json.loads(x) for x in (tmp_path / "decisions.jsonl").read_text().splitlines()]
    assert [(x["event"], x["record_id"] is None) for x in lines] == [
        ("IN", False), ("UNKNOWN", False), ("OUT", True), ("IN", False)]
    assert all(x["first_frame"] <= x["last_frame"] for x in lines)
    assert lines[1]["first_frame"] >= len(celeba["walk"])  # the stranger's track starts in the 2nd walk-past


@pytest.mark.shared_data
def test_enrol_and_kiosk_commands(tmp_path: Path, device: DeviceIdentity, shared_data: Path, celeba,
                                  capsys: pytest.CaptureFixture) -> None:
    root = shared_data / "faces" / "celeba_dev"
    photos = tmp_path / "photos" / celeba["known"]
    photos.mkdir(parents=True)
    with open(root / "labels.csv", newline="") as f:
        mine = [r["image"] for r in csv.DictReader(f) if r["identity"] == celeba["known"]][:3]
    for rel in mine:
        os.symlink(root / rel, photos / Path(rel).name)
    (photos / "empty.jpg").write_bytes(b"")
    gallery_path = tmp_path / "gallery.hjg"
    assert run_cli(enrol_cli, ["--photos", str(tmp_path / "photos"), "--out", str(gallery_path)]) == 0
    assert load_gallery(gallery_path).people == [celeba["known"]]
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["people"] == 1 and summary["templates"] == len(load_gallery(gallery_path))
    empty = str(photos / "empty.jpg")
    assert summary["skipped"] == [{"photo": empty, "reason": f"{empty}: empty image bytes"}]

    frames_dir = tmp_path / "frames"
    frames_dir.mkdir()
    for i, image in enumerate(celeba["walk"]):
        cv2.imwrite(str(frames_dir / f"{i:05d}.jpg"), image)
    config = tmp_path / "kiosk.toml"
    config.write_text(f'device_dir = "{tmp_path / "device"}"\nstore_path = "{tmp_path / "r.db"}"\n'
                      f'gallery_path = "{gallery_path}"\nsource = "v4l2:9"\n')
    stats_path = tmp_path / "stats.json"
    assert run_cli(kiosk_cli, ["--config", str(config), "--source", f"folder:{frames_dir}",
                        "--stats", str(stats_path)]) == 0
    assert json.loads(stats_path.read_text())["records_written"] == 1
    [record] = all_records(open_store(tmp_path / "r.db"))
    assert record.person_id == celeba["known"] and record.event == "IN"

    config.write_text(config.read_text() + "match_treshold = 0.5\n")  # typo: refused, names the key
    assert run_cli(kiosk_cli, ["--config", str(config)]) == 2
