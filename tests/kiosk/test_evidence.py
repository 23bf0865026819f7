"""Evidence crops: kept only for SPOOF by default, encrypted at rest (no JPEG bytes in the file), retention-limited."""

import os
import stat
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_models.opencv_runtime import Detector, Embedder, read_image
from kiosk.config import EvidenceSettings, KioskConfig
from kiosk.evidence import EvidenceError, EvidenceStore, face_crop, open_evidence
from kiosk.gallery import Gallery
from kiosk.runner import run_kiosk
from kiosk.store import all_records, open_store
from model_lab.liveness import attacks
from provisioning.identity import DeviceIdentity

T0 = 1_764_057_600.0
JPEG_MAGIC = b"\xff\xd8\xff"


def a_crop(seed: int = 0, size: int = 120) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 255, (size, size, 3), dtype=np.uint8)


def make_store(tmp_path: Path, **settings) -> EvidenceStore:
    return EvidenceStore(tmp_path / "evidence", tmp_path / "evidence" / "evidence.key", EvidenceSettings(**settings))


def test_crop_is_encrypted_at_rest_and_reads_back(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    assert store.items() == [] and not store.folder.exists()  # nothing is made until a crop is kept
    now = time.time()
    path = store.save("rec-1", a_crop(), now)
    blob = path.read_bytes()
    assert JPEG_MAGIC not in blob and b"JFIF" not in blob
    assert stat.S_IMODE(store.key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    jpeg, taken_ms = store.read("rec-1")
    assert jpeg.startswith(JPEG_MAGIC) and taken_ms == int(now * 1000)
    assert cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR).shape == (120, 120, 3)
    # Moved to another record's name, or altered, it no longer decrypts.
    os.replace(path, store.path_of("rec-2"))
    with pytest.raises(EvidenceError, match="cannot decrypt"):
        store.read("rec-2")
    with pytest.raises(EvidenceError, match="cannot read"):
        store.read("rec-1")
    with pytest.raises(EvidenceError, match="not a record id"):
        store.path_of("../x")


def test_retention_deletes_the_oldest_first(tmp_path: Path) -> None:
    store = make_store(tmp_path, max_count=3, max_age_days=2)
    now = time.time()
    for i in range(5):
        store.save(f"rec-{i}", a_crop(i), now - 3600 * (10 - i))  # rec-0 is the oldest
    assert [i.record_id for i in store.items()] == ["rec-2", "rec-3", "rec-4"]
    store.save("rec-old", a_crop(9), now - 3 * 86400)  # older than max_age_days: gone at once
    assert "rec-old" not in {i.record_id for i in store.items()}
    assert [i.record_id for i in store.items()] == ["rec-2", "rec-3", "rec-4"]
    # A bytes cap: only as many of the newest as fit.
    capped = make_store(tmp_path / "b", max_bytes=64 * 1024)
    big = np.random.default_rng(1).integers(0, 255, (160, 160, 3), dtype=np.uint8)  # noise: ~20+ KiB as JPEG
    for i in range(8):
        capped.save(f"big-{i}", big, now - 100 + i)
    kept = capped.items()
    assert sum(i.size for i in kept) <= 64 * 1024 and len(kept) < 8
    assert [i.record_id for i in kept] == [f"big-{i}" for i in range(8 - len(kept), 8)]


def test_face_crop_is_small_and_clipped() -> None:
    frame = np.zeros((480, 640, 3), np.uint8)
    crop = face_crop(frame, (500.0, 300.0, 300.0, 300.0), 160)
    assert max(crop.shape[:2]) <= 160
    assert face_crop(frame, (10.0, 10.0, 40.0, 40.0), 160).shape[:2] == (56, 56)  # not enlarged, clipped at 0


def test_config_bounds() -> None:
    with pytest.raises(ValueError, match="max_px"):
        KioskConfig(evidence={"max_px": 400})
    with pytest.raises(ValueError, match="mode"):
        KioskConfig(evidence={"mode": "always"})
    with pytest.raises(ValueError, match="extra"):
        KioskConfig(evidence={"keep_everything": True})
    assert open_evidence(KioskConfig(evidence={"mode": "off"})) is None


@pytest.fixture(scope="module")
def models() -> tuple[Detector, Embedder]:
    return Detector(), Embedder()


@pytest.fixture(scope="module")
def lfw_face(shared_data: Path) -> np.ndarray:
    files = sorted((shared_data / "faces" / "lfw_dev").glob("*/*.jpg"))[1::97]
    return read_image(files[0])


def attack_frames(face: np.ndarray) -> list:
    """A printed photo held up and moved (approach, tilt), then the kiosk sees nobody: the track ends."""
    frames = attacks.attack_track(face, "print", 8, seed=5)
    empty = attacks.background((480, 640), 3)
    return [(i, f, T0 + i / 10) for i, f in enumerate(frames + [empty] * 8)]


def live_frames(shared_data: Path) -> list:
    """A real head (replay_a live crops, held-out half) centred on a plain 640x480 frame."""
    out = []
    for i in range(100, 108):
        crop = read_image(shared_data / "liveness" / "replay_a" / "live" / f"{i}.jpg")
        frame = attacks.background((480, 640), 3)
        h, w = crop.shape[:2]
        scale = 300 / max(h, w)
        crop = cv2.resize(crop, (int(w * scale), int(h * scale)))
        frame[90:90 + crop.shape[0], 170:170 + crop.shape[1]] = crop
        out.append(frame)
    empty = attacks.background((480, 640), 3)
    return [(i, f, T0 + i / 10) for i, f in enumerate(out + [empty] * 8)]


def run(tmp_path: Path, device: DeviceIdentity, models, frames, **evidence) -> tuple[list, list]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = KioskConfig(device_dir=tmp_path / "device", store_path=tmp_path / "records.db",
                         gallery_path=tmp_path / "gallery.hjg", source="folder:/nonexistent", evidence=evidence)
    db = open_store(config.store_path)
    try:
        run_kiosk(config, frames, identity=device, gallery=Gallery(), detector=models[0], embedder=models[1],
                  db=db)
        records = all_records(db)
    finally:
        db.close()
    store = open_evidence(config)
    return records, [] if store is None else store.items()


@pytest.mark.shared_data
def test_a_print_attack_keeps_one_encrypted_crop_linked_to_its_spoof_record(tmp_path, device, models,
                                                                          lfw_face) -> None:
    records, items = run(tmp_path, device, models, attack_frames(lfw_face))
    assert [r.event for r in records] == ["SPOOF"]
    assert [i.record_id for i in items] == [records[0].record_id]
    assert JPEG_MAGIC not in items[0].path.read_bytes()
    store = open_evidence(KioskConfig(store_path=tmp_path / "records.db"))
    jpeg, _ = store.read(records[0].record_id)
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert max(image.shape[:2]) <= 160 and len(models[0].detect(cv2.resize(image, None, fx=3, fy=3))) == 1
    # No other image anywhere in the kiosk's folder.
    on_disk = [p for p in tmp_path.rglob("*") if p.is_file() and JPEG_MAGIC in p.read_bytes()[:4]]
    assert on_disk == []


@pytest.mark.shared_data
def test_off_keeps_nothing_and_unknown_only_when_asked(tmp_path, device, models, lfw_face, shared_data) -> None:
    records, items = run(tmp_path / "off", device, models, attack_frames(lfw_face), mode="off")
    assert [r.event for r in records] == ["SPOOF"] and items == []
    records, items = run(tmp_path / "live", device, models, live_frames(shared_data))
    assert [r.event for r in records] == ["UNKNOWN"] and items == []  # a real stranger: no image kept
    records, items = run(tmp_path / "both", device, models, live_frames(shared_data), mode="spoof_and_unknown")
    assert [r.event for r in records] == ["UNKNOWN"] and [i.record_id for i in items] == [records[0].record_id]


def test_the_evidence_folder_is_made_owner_only(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "var" / "evidence", tmp_path / "var" / "evidence" / "evidence.key",
                          EvidenceSettings())
    store.save("rec-1", a_crop(), time.time())
    assert stat.S_IMODE((tmp_path / "var").stat().st_mode) == 0o700
    assert stat.S_IMODE(store.folder.stat().st_mode) == 0o700
