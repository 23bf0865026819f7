"""Spoof evidence on the kiosk: one small face crop per SPOOF record, AES-256-GCM at rest, retention-limited.

Privacy: no other image is ever written. The pipeline holds one best crop per open track in memory
(`CropKeeper`) and drops it when the track ends; only a decision the config names (SPOOF by default) hands
its crop to `EvidenceStore`, which encrypts it under a 0600 key file (the gallery's key helpers) beside the
record store. The sync agent sends it to the server and deletes it once the server acks; retention deletes
the oldest crops first when they are too old, too many or too big, acked or not.
"""

import logging
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hajiri_common.files import make_private_dir, write_atomic
from hajiri_common.keys import KeyFileError, load_or_create_key
from kiosk.config import EvidenceSettings, KioskConfig

log = logging.getLogger(__name__)

MAGIC = b"HJEVIDNC"
FORMAT_VERSION = 1
SUFFIX = ".hje"
_HEADER_LEN = len(MAGIC) + 1 + 8  # magic, version, taken_at (ms since the epoch, big-endian)
_NONCE_LEN = 12
CROP_MARGIN = 0.2  # of the face box on each side: the crop shows the head and what holds it up
KEPT_EVENTS = {"off": frozenset(), "spoof": frozenset({"SPOOF"}),
               "spoof_and_unknown": frozenset({"SPOOF", "UNKNOWN"})}


class EvidenceError(RuntimeError):
    """An evidence file that cannot be written, read or decrypted; the message names the file."""


def face_crop(image: np.ndarray, box: tuple[float, float, float, float], max_px: int) -> np.ndarray:
    """The face box plus a margin, clipped to the frame, shrunk so its longest side is at most max_px."""
    x, y, w, h = box
    mx, my = w * CROP_MARGIN, h * CROP_MARGIN
    height, width = image.shape[:2]
    x0, y0 = max(int(x - mx), 0), max(int(y - my), 0)
    x1, y1 = min(int(x + w + mx), width), min(int(y + h + my), height)
    crop = image[y0:max(y1, y0 + 1), x0:max(x1, x0 + 1)]
    scale = max_px / max(crop.shape[:2])
    if scale < 1.0:
        crop = cv2.resize(crop, (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale))),
                          interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(crop)


class CropKeeper:
    """The best-quality small crop of each open track, in memory only; dropped when the track is done."""

    def __init__(self, max_px: int) -> None:
        self.max_px = max_px
        self._best: dict[int, tuple[float, np.ndarray]] = {}

    def offer(self, track_id: int, quality: float, image: np.ndarray,
              box: tuple[float, float, float, float]) -> None:
        best = self._best.get(track_id)
        if best is None or quality > best[0]:
            self._best[track_id] = (quality, face_crop(image, box, self.max_px))

    def take(self, track_id: int) -> np.ndarray | None:
        best = self._best.pop(track_id, None)
        return None if best is None else best[1]

    def drop(self, track_id: int) -> None:
        self._best.pop(track_id, None)

    def __len__(self) -> int:
        return len(self._best)


@dataclass(frozen=True)
class EvidenceItem:
    """One kept crop, as listed (its JPEG stays encrypted until `read`)."""

    record_id: str
    taken_at_ms: int
    path: Path
    size: int


def evidence_dir(config: KioskConfig) -> Path:
    return config.evidence.dir or config.store_path.parent / "evidence"


class EvidenceStore:
    """Encrypted crops, one file per record id, in a folder of their own."""

    def __init__(self, folder: Path, key_path: Path, settings: EvidenceSettings) -> None:
        self.folder = Path(folder)
        self.key_path = Path(key_path)
        self.settings = settings
        self._key_bytes: bytes | None = None

    @property
    def _key(self) -> bytes:
        # Made on first use: a kiosk that never sees a SPOOF creates neither the folder nor the key.
        if self._key_bytes is None:
            make_private_dir(self.folder)
            try:
                self._key_bytes = load_or_create_key(self.key_path, "evidence key")
            except KeyFileError as e:
                raise EvidenceError(str(e)) from e
        return self._key_bytes

    def path_of(self, record_id: str) -> Path:
        if not record_id or "/" in record_id or record_id.startswith("."):
            raise EvidenceError(f"not a record id: {record_id!r}")
        return self.folder / f"{record_id}{SUFFIX}"

    def save(self, record_id: str, crop: np.ndarray, taken_at: float) -> Path:
        """Encrypt the crop as JPEG under record_id (atomic, fsync'd, 0600), then apply retention."""
        key = self._key
        ok, jpeg = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, self.settings.jpeg_quality])
        if not ok:
            raise EvidenceError(f"evidence for {record_id}: the crop could not be encoded as JPEG")
        header = MAGIC + bytes([FORMAT_VERSION]) + int(taken_at * 1000).to_bytes(8, "big")
        nonce = secrets.token_bytes(_NONCE_LEN)
        # The record id is authenticated too: a file renamed to another record fails to decrypt.
        blob = header + nonce + AESGCM(key).encrypt(nonce, jpeg.tobytes(), header + record_id.encode())
        path = self.path_of(record_id)
        write_atomic(path, blob)
        self.prune()
        return path

    def items(self) -> list[EvidenceItem]:
        """Every kept crop, oldest first (by the time it was taken)."""
        out = []
        if not self.folder.is_dir():
            return out
        for path in self.folder.glob(f"*{SUFFIX}"):
            try:
                with open(path, "rb") as f:
                    header = f.read(_HEADER_LEN)
                size = path.stat().st_size
            except OSError:
                continue  # deleted meanwhile (acked or pruned by the other process)
            if len(header) < _HEADER_LEN or not header.startswith(MAGIC):
                log.warning("evidence file %s is not one of ours; ignored", path)
                continue
            out.append(EvidenceItem(path.name[:-len(SUFFIX)], int.from_bytes(header[len(MAGIC) + 1:], "big"),
                                    path, size))
        return sorted(out, key=lambda i: (i.taken_at_ms, i.record_id))

    def read(self, record_id: str) -> tuple[bytes, int]:
        """(JPEG bytes, taken_at ms) of one crop; EvidenceError if missing, foreign or tampered."""
        path = self.path_of(record_id)
        try:
            blob = path.read_bytes()
        except OSError as e:
            raise EvidenceError(f"evidence {path}: cannot read: {e.strerror or e}") from e
        if len(blob) < _HEADER_LEN + _NONCE_LEN + 16 or not blob.startswith(MAGIC):
            raise EvidenceError(f"evidence {path}: not a Hajiri evidence file (bad magic or truncated)")
        if blob[len(MAGIC)] != FORMAT_VERSION:
            raise EvidenceError(f"evidence {path}: format version {blob[len(MAGIC)]} is not supported")
        header, nonce = blob[:_HEADER_LEN], blob[_HEADER_LEN:_HEADER_LEN + _NONCE_LEN]
        try:
            jpeg = AESGCM(self._key).decrypt(nonce, blob[_HEADER_LEN + _NONCE_LEN:], header + record_id.encode())
        except InvalidTag as e:
            raise EvidenceError(f"evidence {path}: cannot decrypt - wrong key, or the file was altered") from e
        return jpeg, int.from_bytes(header[len(MAGIC) + 1:], "big")

    def delete(self, record_id: str) -> bool:
        try:
            self.path_of(record_id).unlink()
            return True
        except FileNotFoundError:
            return False

    def prune(self, now: float | None = None) -> list[str]:
        """Delete crops past max_age_days, then the oldest until within max_count and max_bytes."""
        s = self.settings
        now = time.time() if now is None else now
        cutoff_ms = int((now - s.max_age_days * 86400) * 1000)
        items = self.items()
        gone = [i for i in items if i.taken_at_ms < cutoff_ms]
        kept = [i for i in items if i.taken_at_ms >= cutoff_ms]
        total = sum(i.size for i in kept)
        while kept and (len(kept) > s.max_count or total > s.max_bytes):
            oldest = kept.pop(0)
            total -= oldest.size
            gone.append(oldest)
        for item in gone:
            item.path.unlink(missing_ok=True)
        if gone:
            log.info("evidence retention deleted %d crop(s) (max %.0f days, %d crops, %d bytes)", len(gone),
                     s.max_age_days, s.max_count, s.max_bytes)
        return [i.record_id for i in gone]


def open_evidence(config: KioskConfig) -> EvidenceStore | None:
    """The kiosk's evidence store, or None when evidence is off. Says at start where crops will go."""
    s = config.evidence
    if s.mode == "off":
        log.info("evidence crops are off (evidence.mode = off): no face image is kept, even for a SPOOF")
        return None
    folder = evidence_dir(config)
    store = EvidenceStore(folder, s.key_path or folder / "evidence.key", s)
    if s.server_public_key is None:
        log.warning("evidence.server_public_key is not set: %s crops are kept (encrypted) on this kiosk only "
                    "and never reach the admin review list", "/".join(sorted(KEPT_EVENTS[s.mode])))
    return store


def keeps(settings: EvidenceSettings, event: str) -> bool:
    """Does this config keep a crop for a decision with this event?"""
    return event in KEPT_EVENTS[settings.mode]


def keep_crop(store: EvidenceStore | None, record_id: str | None, crop: np.ndarray | None, taken_at: float) -> bool:
    """Save a decision's crop under its stored record's id; a failure is logged, never stops the kiosk."""
    if store is None or record_id is None or crop is None:
        return False
    try:
        store.save(record_id, crop, taken_at)
        return True
    except (OSError, EvidenceError) as e:
        log.error("evidence crop for record %s not kept: %s", record_id, e)
        return False
