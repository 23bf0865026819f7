"""The running kiosk signs with a rotated key from the next record on: device.json is watched between frames."""

import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_models.opencv_runtime import Detector, Embedder, read_image
from hajiri_demo.walkpast import feathered_paste
from hajiri_wire import verify_chain, verify_record
from hajiri_wire.errors import BadSignature
from kiosk.config import KioskConfig
from kiosk.gallery import Gallery
from kiosk.identity_watch import IdentityWatch
from kiosk.runner import run_kiosk
from kiosk.store import all_records, open_store
from model_lab.evaluation.labelled import load_identities
from provisioning.identity import create_identity, create_pending_key, load_identity, swap_signing_key

T0 = 1_764_057_600.0


def background() -> np.ndarray:
    rng = np.random.default_rng(5)
    grad = np.linspace(50, 170, 640, dtype=np.float32)[None, :, None] * np.ones((480, 1, 3), np.float32)
    return np.clip(grad + rng.normal(0, 5, (480, 640, 3)), 0, 255).astype(np.uint8)


def walk(photo: np.ndarray, detector: Detector) -> list[np.ndarray]:
    """One face approaching the camera, feathered onto a background (a hard edge would look like a photo)."""
    f = max(detector.detect(photo), key=lambda f: f.size)
    side = int(2.2 * f.size)
    cx, cy = int(f.box[0] + f.box[2] / 2), int(f.box[1] + f.box[3] / 2)
    padded = cv2.copyMakeBorder(photo, side, side, side, side, cv2.BORDER_REPLICATE)
    crop = padded[cy + side // 2: cy + side + side // 2, cx + side // 2: cx + side + side // 2]
    frames = []
    for i in range(15):
        frame, s = background(), int((70 + 4 * i) * 2.2)
        feathered_paste(frame, cv2.resize(crop, (s, s), interpolation=cv2.INTER_AREA), 80 + 14 * i, 40 + 2 * i)
        frames.append(frame)
    return frames + [background()] * 8


def test_watch_is_cheap_until_device_json_changes(tmp_path: Path) -> None:
    identity = create_identity(tmp_path, "kiosk-01", "office-1")
    now = [0.0]
    watch = IdentityWatch(tmp_path, identity, interval_s=1.0, clock=lambda: now[0])
    assert watch.poll() is identity
    create_pending_key(tmp_path)
    new = swap_signing_key(tmp_path)
    assert watch.poll() is identity, "not before the interval"
    now[0] = 1.5
    assert watch.poll().public_key_b64 == new.public_key_b64 and watch.reloads == 1
    now[0] = 3.0
    (tmp_path / "device.json").write_text("{broken")
    assert watch.poll().public_key_b64 == new.public_key_b64, "a file that does not load keeps the running key"


@pytest.mark.shared_data
@pytest.mark.slow
def test_run_kiosk_signs_with_the_rotated_key(tmp_path: Path, shared_data: Path) -> None:
    detector, embedder = Detector(), Embedder()
    root = shared_data / "faces" / "celeba_dev"
    person = sorted(load_identities(root))[0]
    photo = next(img for img in (read_image(root / r) for r in load_identities(root)[person])
                 if len(detector.detect(img)) == 1)
    old = create_identity(tmp_path / "device", "kiosk-01", "office-1")
    cfg = KioskConfig(device_dir=tmp_path / "device", store_path=tmp_path / "records.db",
                      gallery_path=tmp_path / "gallery.hjg", source="folder:/nonexistent", gallery_reload_s=0.01)
    db = open_store(cfg.store_path)
    passes = walk(photo, detector)
    new_key: list[str] = []

    def frames():
        for i, image in enumerate(passes):
            yield i, image, T0 + i / 10
        create_pending_key(tmp_path / "device")  # what the sync agent does when the server accepts the key
        new_key.append(swap_signing_key(tmp_path / "device").public_key_b64)
        time.sleep(0.05)
        for i, image in enumerate(passes):
            yield len(passes) + i, image, T0 + 3600 + i / 10

    run_kiosk(cfg, frames(), threading.Event(), identity=old, gallery=Gallery(), detector=detector,
              embedder=embedder, db=db)
    records = all_records(db)
    assert len(records) == 2 and verify_chain(records) == []
    new = load_identity(tmp_path / "device")
    assert new.public_key_b64 == new_key[0] != old.public_key_b64
    verify_record(records[0], old.key.public)
    verify_record(records[1], new.key.public)
    with pytest.raises(BadSignature):
        verify_record(records[1], old.key.public)
