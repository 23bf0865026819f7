"""The enrolled people: face templates, 1:N search, and the AES-256-GCM encrypted gallery file."""

import csv
import json
import os
import re
import secrets
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from edge_models.opencv_runtime import EMBEDDING_DIM, MODEL_VERSION, BadFrame, Detector, Embedder, read_image

MAGIC = b"HJGALLRY"
FORMAT_VERSION = 1
_HEADER_LEN = len(MAGIC) + 1
_NONCE_LEN = 12
# The wire contract's person_id rule (hajiri_wire.record.PersonId): an id that could never travel is refused here.
PERSON_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".webp"}


class GalleryError(RuntimeError):
    """A gallery that cannot be built, saved or opened (wrong key, corrupt file, bad person id)."""


@dataclass(frozen=True)
class Match:
    """Result of a 1:N search: the best person, their score, and the runner-up's score (-1.0 when none)."""

    person_id: str | None
    name: str
    score: float
    second_person_id: str | None
    second_score: float

    @property
    def margin(self) -> float:
        return self.score - self.second_score


class Gallery:
    """Templates (several per person allowed) as one float32 matrix, searched with one matmul."""

    def __init__(self, model_version: str = MODEL_VERSION) -> None:
        self.model_version = model_version
        self.names: dict[str, str] = {}
        self._rows: list[str] = []  # person_id of each template row
        self._templates = np.zeros((0, EMBEDDING_DIM), np.float32)
        self._index_cache: tuple[list[str], np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def people(self) -> list[str]:
        return list(self.names)

    @property
    def templates(self) -> np.ndarray:
        return self._templates

    def add(self, person_id: str, name: str, embedding: np.ndarray) -> None:
        if not PERSON_ID_RE.match(person_id):
            raise GalleryError(f"person id {person_id!r} is not allowed (letters, digits, _.@-; max 128)")
        e = np.asarray(embedding, np.float32).reshape(-1)
        if e.shape != (EMBEDDING_DIM,):
            raise GalleryError(f"template for {person_id!r} has {e.size} values, expected {EMBEDDING_DIM}")
        n = float(np.linalg.norm(e))
        if not np.isfinite(n) or n == 0:
            raise GalleryError(f"template for {person_id!r} is zero or not finite")
        self.names[person_id] = name or self.names.get(person_id, "") or person_id
        self._rows.append(person_id)
        self._templates = np.vstack([self._templates, (e / n)[None, :]])
        self._index_cache = None

    def _index(self) -> tuple[list[str], np.ndarray]:
        if self._index_cache is None:
            people = list(self.names)
            pos = {p: i for i, p in enumerate(people)}
            self._index_cache = (people, np.array([pos[p] for p in self._rows], np.intp))
        return self._index_cache

    def search(self, embedding: np.ndarray) -> Match:
        """Best and second-best *person* (max over each person's templates) by cosine similarity."""
        if not self._rows:
            return Match(None, "", -1.0, None, -1.0)
        people, row_person = self._index()
        scores = self._templates @ np.asarray(embedding, np.float32).reshape(-1)
        best = np.full(len(people), -np.inf, np.float32)
        np.maximum.at(best, row_person, scores)
        order = np.argsort(best)[::-1][:2]
        first = people[order[0]]
        second = people[order[1]] if len(order) > 1 else None
        return Match(first, self.names[first], float(best[order[0]]), second,
                     float(best[order[1]]) if second is not None else -1.0)

    # -- encrypted file -------------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        meta = {"model_version": self.model_version, "dim": EMBEDDING_DIM, "names": self.names, "rows": self._rows}
        meta_bytes = json.dumps(meta, sort_keys=True).encode()
        return len(meta_bytes).to_bytes(4, "big") + meta_bytes + self._templates.astype("<f4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> "Gallery":
        n = int.from_bytes(data[:4], "big")
        meta = json.loads(data[4:4 + n])
        matrix = np.frombuffer(data[4 + n:], "<f4").astype(np.float32)
        rows = meta["rows"]
        if meta["dim"] != EMBEDDING_DIM or matrix.size != len(rows) * EMBEDDING_DIM:
            raise GalleryError("gallery contents are inconsistent (template count or size)")
        g = cls(meta["model_version"])
        g.names = dict(meta["names"])
        g._rows = list(rows)
        g._templates = matrix.reshape(len(rows), EMBEDDING_DIM)
        return g

    def save(self, path: Path | str, key_path: Path | str | None = None) -> Path:
        """Encrypt to `path` (atomically) with the key in `key_path` (default <path>.key; created if absent)."""
        path = Path(path)
        key = load_or_create_key(key_path or default_key_path(path))
        nonce = secrets.token_bytes(_NONCE_LEN)
        header = MAGIC + bytes([FORMAT_VERSION])
        # The header is authenticated too: a changed version byte fails like any other tampering.
        blob = header + nonce + AESGCM(key).encrypt(nonce, self.to_bytes(), header)
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return path


def default_key_path(gallery_path: Path | str) -> Path:
    return Path(str(gallery_path) + ".key")


def load_or_create_key(key_path: Path | str) -> bytes:
    """The 32-byte AES key in `key_path` (hex, mode 0600); a new random one is created when the file is absent."""
    key_path = Path(key_path)
    if not key_path.exists():
        key = secrets.token_bytes(32)
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key.hex() + "\n")
        return key
    return load_key(key_path)


def load_key(key_path: Path | str) -> bytes:
    key_path = Path(key_path)
    try:
        mode = key_path.stat().st_mode
        text = key_path.read_text().strip()
    except OSError as e:
        raise GalleryError(f"gallery key {key_path}: cannot read: {e.strerror or e}") from e
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise GalleryError(f"gallery key {key_path} is accessible by other users (mode {stat.S_IMODE(mode):o}); "
                           "chmod 600 it")
    try:
        key = bytes.fromhex(text)
    except ValueError as e:
        raise GalleryError(f"gallery key {key_path} is not hex") from e
    if len(key) != 32:
        raise GalleryError(f"gallery key {key_path} holds {len(key)} bytes, AES-256 needs 32")
    return key


def load_gallery(path: Path | str, key_path: Path | str | None = None) -> Gallery:
    """Decrypt and load a gallery; GalleryError says whether the file, its format or the key is the problem."""
    path = Path(path)
    try:
        blob = path.read_bytes()
    except OSError as e:
        raise GalleryError(f"gallery {path}: cannot read: {e.strerror or e}") from e
    if len(blob) < _HEADER_LEN + _NONCE_LEN + 16 or not blob.startswith(MAGIC):
        raise GalleryError(f"gallery {path}: not a Hajiri gallery file (bad magic or truncated)")
    version = blob[len(MAGIC)]
    if version != FORMAT_VERSION:
        raise GalleryError(f"gallery {path}: format version {version} is not supported "
                           f"(expected {FORMAT_VERSION})")
    key = load_key(key_path or default_key_path(path))
    header, nonce, ciphertext = blob[:_HEADER_LEN], blob[_HEADER_LEN:_HEADER_LEN + _NONCE_LEN], \
        blob[_HEADER_LEN + _NONCE_LEN:]
    try:
        plain = AESGCM(key).decrypt(nonce, ciphertext, header)
    except InvalidTag as e:
        raise GalleryError(f"gallery {path}: cannot decrypt - wrong key or the file is corrupted/tampered") from e
    try:
        return Gallery.from_bytes(plain)
    except (ValueError, KeyError, TypeError) as e:
        raise GalleryError(f"gallery {path}: decrypted but contents are malformed: {e}") from e


# -- building a gallery from photos ---------------------------------------------------------------------------


@dataclass
class EnrolReport:
    """What enrolment did: people and templates added, and every photo skipped with its reason."""

    people: int = 0
    templates: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (photo path, reason)

    def to_dict(self) -> dict:
        return {"people": self.people, "templates": self.templates,
                "skipped": [{"photo": p, "reason": r} for p, r in self.skipped]}


def enrol_photo(detector: Detector, embedder: Embedder, path: Path | str) -> np.ndarray:
    """The template of the single face in a photo; BadFrame with the reason when there is not exactly one face."""
    image = read_image(path)
    faces = detector.detect(image)
    if not faces:
        raise BadFrame("no face found")
    if len(faces) > 1:
        raise BadFrame(f"{len(faces)} faces found, expected exactly one")
    return embedder.embed_face(image, faces[0])


def people_from_folder(photos_dir: Path | str) -> list[tuple[str, str, list[Path]]]:
    """photos/<person_id>/*.jpg (+ optional photos/names.csv with person_id,name) -> (person_id, name, photos)."""
    photos_dir = Path(photos_dir)
    if not photos_dir.is_dir():
        raise GalleryError(f"photos folder {photos_dir} does not exist")
    names: dict[str, str] = {}
    names_csv = photos_dir / "names.csv"
    if names_csv.exists():
        with open(names_csv, newline="") as f:
            reader = csv.DictReader(f)
            if not reader.fieldnames or not {"person_id", "name"} <= set(reader.fieldnames):
                raise GalleryError(f"{names_csv}: needs columns person_id,name")
            names = {row["person_id"].strip(): row["name"].strip() for row in reader}
    people = []
    for d in sorted(p for p in photos_dir.iterdir() if p.is_dir()):
        photos = sorted(p for p in d.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        people.append((d.name, names.get(d.name, d.name), photos))
    return people


def build_gallery(source: Path | str | Iterable[tuple[str, str, Iterable[Path | str]]], detector: Detector,
                  embedder: Embedder) -> tuple[Gallery, EnrolReport]:
    """Enrol every usable photo; unreadable ones and those with no or several faces are reported, never dropped."""
    people = people_from_folder(source) if isinstance(source, str | Path) else list(source)
    bad = [pid for pid, _, _ in people if not PERSON_ID_RE.match(pid)]
    if bad:
        raise GalleryError(f"person ids not allowed (letters, digits, _.@-; max 128): {bad}")
    gallery, report = Gallery(), EnrolReport()
    for person_id, name, photos in people:
        added = 0
        for photo in photos:
            try:
                gallery.add(person_id, name, enrol_photo(detector, embedder, photo))
                added += 1
            except BadFrame as e:
                report.skipped.append((str(photo), str(e)))
        if added == 0:
            report.skipped.append((str(person_id), "person not enrolled: no usable photo"))
        report.templates += added
    report.people = len(gallery.people)
    return gallery, report
