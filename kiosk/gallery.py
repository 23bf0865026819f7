"""The enrolled people: face templates, 1:N search, and the AES-256-GCM encrypted gallery file."""

import csv
import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from edge_models.opencv_runtime import EMBEDDING_DIM, MODEL_VERSION, BadFrame, Detector, Embedder, read_image
from hajiri_common.files import write_atomic
from hajiri_common.keys import KeyFileError, load_key, load_or_create_key

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


@dataclass(frozen=True)
class SearchIndex:
    """The gallery laid out for search: templates grouped by person (one contiguous float32 block each), so a
    person's best score is one np.maximum.reduceat over the matmul result. Built once, never mutated."""

    people: list[str]
    matrix: np.ndarray  # (templates, dim) float32, C-contiguous, rows sorted by person
    starts: np.ndarray  # first row of each person's block (people with no template do not appear)
    group_person: np.ndarray  # person index of each block


def build_index(people: list[str], rows: list[str], templates: np.ndarray) -> SearchIndex:
    """Group the template rows by person (stable: a person's templates keep their order)."""
    pos = {p: i for i, p in enumerate(people)}
    row_person = np.fromiter((pos[p] for p in rows), np.intp, len(rows))
    order = np.argsort(row_person, kind="stable")
    sorted_person = row_person[order]
    starts = np.flatnonzero(np.r_[True, sorted_person[1:] != sorted_person[:-1]]) if len(rows) else \
        np.zeros(0, np.intp)
    matrix = np.ascontiguousarray(templates[order], dtype=np.float32)
    return SearchIndex(people, matrix, starts, sorted_person[starts] if len(rows) else np.zeros(0, np.intp))


def person_best(index: SearchIndex, embedding: np.ndarray) -> np.ndarray:
    """Each listed person's best cosine score (max over their templates), aligned with index.group_person."""
    scores = index.matrix @ np.asarray(embedding, np.float32).reshape(-1)
    return np.maximum.reduceat(scores, index.starts)


class Gallery:
    """Templates (several per person allowed) as one float32 matrix, searched with one matmul.

    Build it, then treat it as read-only: `GalleryHolder.swap` freezes a gallery before publishing it, so a
    kiosk never searches a gallery that is still changing.
    """

    def __init__(self, model_version: str = MODEL_VERSION) -> None:
        self.model_version = model_version
        self.names: dict[str, str] = {}
        self._rows: list[str] = []  # person_id of each template row
        # Grown by doubling: adding n templates one by one costs O(n), not the O(n^2) of repeated vstack.
        self._buf = np.zeros((0, EMBEDDING_DIM), np.float32)
        self._index_cache: SearchIndex | None = None
        self._frozen = False

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def people(self) -> list[str]:
        return list(self.names)

    @property
    def templates(self) -> np.ndarray:
        """(templates, dim) float32 in the order they were added (a read-only view)."""
        view = self._buf[:len(self._rows)]
        view.flags.writeable = False
        return view

    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self) -> "Gallery":
        """Build the search index now and refuse further changes (safe to share between threads)."""
        self._index()
        self._frozen = True
        return self

    def add(self, person_id: str, name: str, embedding: np.ndarray) -> None:
        self.add_many([person_id], np.asarray(embedding, np.float32).reshape(1, -1), {person_id: name})

    def add_many(self, person_ids: list[str], embeddings: np.ndarray,
                 names: dict[str, str] | None = None) -> None:
        """One template per row of `embeddings` for person_ids[i]; every row is checked before any is added."""
        if self._frozen:
            raise GalleryError("gallery is frozen (published to a kiosk); build a new one and swap it in")
        e = np.asarray(embeddings, np.float32)
        if e.ndim != 2 or e.shape[0] != len(person_ids):
            raise GalleryError(f"need one template per person id: {len(person_ids)} ids, "
                               f"embeddings shape {e.shape}")
        for person_id in dict.fromkeys(person_ids):
            if not PERSON_ID_RE.match(person_id):
                raise GalleryError(f"person id {person_id!r} is not allowed (letters, digits, _.@-; max 128)")
        if e.shape[1] != EMBEDDING_DIM:
            raise GalleryError(f"template for {person_ids[0]!r} has {e.shape[1]} values, "
                               f"expected {EMBEDDING_DIM}")
        norms = np.linalg.norm(e, axis=1)
        bad = np.flatnonzero(~np.isfinite(norms) | (norms == 0))
        if len(bad):
            raise GalleryError(f"template for {person_ids[int(bad[0])]!r} is zero or not finite")
        names = names or {}
        for person_id in dict.fromkeys(person_ids):
            self.names[person_id] = names.get(person_id) or self.names.get(person_id, "") or person_id
        n, k = len(self._rows), len(person_ids)
        if n + k > len(self._buf):
            grown = np.zeros((max(n + k, 2 * len(self._buf), 16), EMBEDDING_DIM), np.float32)
            grown[:n] = self._buf[:n]
            self._buf = grown
        self._buf[n:n + k] = e / norms[:, None]
        self._rows.extend(person_ids)
        self._index_cache = None

    def _index(self) -> SearchIndex:
        index = self._index_cache
        if index is None:
            # Built into a local, published with one assignment: a concurrent reader sees old or new, whole.
            index = build_index(list(self.names), list(self._rows), self.templates)
            self._index_cache = index
        return index

    def search(self, embedding: np.ndarray) -> Match:
        """Best and second-best *person* (max over each person's templates) by cosine similarity."""
        if not self._rows:
            return Match(None, "", -1.0, None, -1.0)
        index = self._index()
        best = person_best(index, embedding)
        if len(best) > 2:
            top = np.argpartition(best, len(best) - 2)[-2:]  # O(people), not a full sort
            top = top[np.argsort(best[top], kind="stable")[::-1]]
        else:
            top = np.argsort(best, kind="stable")[::-1]
        first = index.people[index.group_person[top[0]]]
        if len(top) < 2:
            return Match(first, self.names[first], float(best[top[0]]), None, -1.0)
        second = index.people[index.group_person[top[1]]]
        return Match(first, self.names[first], float(best[top[0]]), second, float(best[top[1]]))

    # -- encrypted file -------------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        meta = {"model_version": self.model_version, "dim": EMBEDDING_DIM, "names": self.names, "rows": self._rows}
        meta_bytes = json.dumps(meta, sort_keys=True).encode()
        return len(meta_bytes).to_bytes(4, "big") + meta_bytes + self.templates.astype("<f4").tobytes()

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
        g._buf = matrix.reshape(len(rows), EMBEDDING_DIM)  # astype above made a private, writable copy
        return g

    def save(self, path: Path | str, key_path: Path | str | None = None) -> Path:
        """Encrypt to `path` (atomically) with the key in `key_path` (default <path>.key; created if absent)."""
        path = Path(path)
        key = gallery_key(key_path or default_key_path(path), create=True)
        nonce = secrets.token_bytes(_NONCE_LEN)
        header = MAGIC + bytes([FORMAT_VERSION])
        # The header is authenticated too: a changed version byte fails like any other tampering.
        blob = header + nonce + AESGCM(key).encrypt(nonce, self.to_bytes(), header)
        write_atomic(path, blob)
        return path


class GalleryHolder:
    """The gallery a running kiosk searches, replaced whole while it runs.

    Readers take `.current` once per search (one attribute read, atomic in CPython) and use that snapshot; a
    swap builds and freezes the new gallery's search index *before* the single assignment that publishes it,
    so no search ever sees a half-built gallery and no reader takes a lock. It also answers `search` itself,
    so it can stand in wherever a Gallery is only searched.
    """

    def __init__(self, gallery: Gallery | None = None) -> None:
        self._current = (gallery if gallery is not None else Gallery()).freeze()
        self.swaps = 0

    @property
    def current(self) -> Gallery:
        return self._current

    def swap(self, new: Gallery) -> Gallery:
        """Publish `new` (frozen first); returns the gallery it replaced. Refuses a different model version."""
        if new.model_version != self._current.model_version and len(self._current):
            raise GalleryError(f"new gallery was enrolled with {new.model_version}, the running one with "
                               f"{self._current.model_version}; templates of different models cannot be compared")
        new.freeze()
        old, self._current = self._current, new
        self.swaps += 1
        return old

    def search(self, embedding: np.ndarray) -> Match:
        return self._current.search(embedding)

    def __len__(self) -> int:
        return len(self._current)

    @property
    def people(self) -> list[str]:
        return self._current.people

    @property
    def names(self) -> dict[str, str]:
        return self._current.names

    @property
    def model_version(self) -> str:
        return self._current.model_version


def default_key_path(gallery_path: Path | str) -> Path:
    return Path(str(gallery_path) + ".key")


def gallery_key(key_path: Path | str, *, create: bool) -> bytes:
    """The gallery's AES key (hajiri_common.keys), its problems raised as GalleryError."""
    try:
        return load_or_create_key(key_path, "gallery key") if create else load_key(key_path, "gallery key")
    except KeyFileError as e:
        raise GalleryError(str(e)) from e


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
    key = gallery_key(key_path or default_key_path(path), create=False)
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
