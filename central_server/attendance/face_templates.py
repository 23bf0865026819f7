"""Central face templates: enrolled from photos or embeddings, AES-256-GCM encrypted at rest, matched 1:1."""

import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from central_server.access.audit import write_audit
from central_server.db.schema import employee_templates
from central_server.errors import Invalid, Unavailable
from edge_models.liveness.cues import frame_cues
from edge_models.liveness.faces import Found, find_face
from edge_models.liveness.fusion import load_fusion
from edge_models.opencv_runtime import EMBEDDING_DIM, MODEL_VERSION, Detector, Embedder
from edge_models.thresholds import match_threshold
from hajiri_common.keys import KeyFileError, load_key, load_or_create_key
from hajiri_common.timefmt import utc_iso

NONCE_LEN = 12
MAX_TEMPLATES = 20  # per employee: enough for glasses / no glasses, beard, age; a cap against a runaway script


class TemplateError(Invalid, ValueError):
    """Enrolment input that cannot become a template (no face, several faces, wrong size, too many): 422."""


class TemplateKeyError(Unavailable, RuntimeError):
    """The server's template key file is missing, unreadable, too open, or not the key the templates used:
    503 (the operator fixes the file; the request can be sent again)."""


@dataclass(frozen=True)
class FaceReading:
    """What the models saw in one image: the face count and, for exactly one face, its embedding and the
    passive liveness score (kiosk per-frame cues fused with the kiosk's weights, no track cue)."""

    faces: int
    embedding: np.ndarray | None = None
    liveness: float | None = None
    cues: dict[str, float] = field(default_factory=dict)


class FaceModels:
    """YuNet, SFace and the liveness fusion, loaded once per process. OpenCV's nets are not thread-safe, so
    one lock serialises their use: a check-in costs ~40 ms of CPU, a queue beats a model copy per thread."""

    def __init__(self) -> None:
        self.detector = Detector()
        self.embedder = Embedder()
        self.fusion = load_fusion()
        self.lock = threading.Lock()

    def locate(self, image: np.ndarray) -> tuple[int, Found | None]:
        """(faces found, the face to use when there is exactly one). A tight crop with no detection is
        retried with a margin, as the kiosk's liveness code does."""
        faces = self.detector.detect(image)
        if len(faces) > 1:
            return len(faces), None
        if len(faces) == 1:
            return 1, Found(image, faces[0], (0, 0, image.shape[1], image.shape[0]))
        found = find_face(self.detector, image)
        return (0, None) if found is None else (1, found)

    def read(self, image: np.ndarray, *, liveness: bool = True) -> FaceReading:
        with self.lock:
            count, found = self.locate(image)
            if found is None:
                return FaceReading(count)
            embedding = self.embedder.embed_face(found.image, found.face)
            if not liveness:
                return FaceReading(1, embedding)
            cues = frame_cues(found.image, found.face.box, found.valid)
            return FaceReading(1, embedding, self.fusion.score(cues), cues)


_models: FaceModels | None = None
_models_lock = threading.Lock()


def face_models() -> FaceModels:
    """The process's models, loaded on first use (double-checked: two first requests load them once)."""
    global _models
    if _models is None:
        with _models_lock:
            if _models is None:
                _models = FaceModels()
    return _models


# -- the key and the ciphertext --------------------------------------------------------------------------------

def load_template_key(key_path: Path, *, create: bool) -> bytes:
    """The 32-byte key (hex, 0600). Created (with its folder) only when enrolling: a verification that finds
    no key must not mint a new one that opens nothing."""
    key_path = Path(key_path)
    try:
        if create:
            key_path.parent.mkdir(parents=True, exist_ok=True)
            return load_or_create_key(key_path, "template key")
        if not key_path.exists():
            raise TemplateKeyError(f"template key {key_path} does not exist; templates cannot be opened")
        return load_key(key_path, "template key")
    except KeyFileError as e:
        raise TemplateKeyError(str(e)) from e


def _aad(employee_id: str, template_no: int, model_version: str) -> bytes:
    # Binds the ciphertext to its row: a template copied to another employee or number fails to open.
    return f"hajiri-template|{employee_id}|{template_no}|{model_version}".encode()


def encrypt_template(key: bytes, employee_id: str, template_no: int, model_version: str,
                     embedding: np.ndarray) -> bytes:
    nonce = secrets.token_bytes(NONCE_LEN)
    plain = np.asarray(embedding, "<f4").reshape(-1).tobytes()
    return nonce + AESGCM(key).encrypt(nonce, plain, _aad(employee_id, template_no, model_version))


def decrypt_template(key: bytes, employee_id: str, template_no: int, model_version: str, blob: bytes) -> np.ndarray:
    try:
        plain = AESGCM(key).decrypt(blob[:NONCE_LEN], blob[NONCE_LEN:], _aad(employee_id, template_no, model_version))
    except InvalidTag as e:
        raise TemplateKeyError(f"template {employee_id}#{template_no} does not open with this key "
                               "(wrong key file, or the row was altered)") from e
    return np.frombuffer(plain, "<f4").astype(np.float32)


# -- enrolment ---------------------------------------------------------------------------------------------------

def check_embeddings(embeddings: np.ndarray | list) -> np.ndarray:
    """(n, 128) finite, non-zero rows, L2-normalised; TemplateError naming the bad row otherwise."""
    e = np.asarray(embeddings, np.float32)
    if e.ndim != 2 or e.shape[1] != EMBEDDING_DIM or e.shape[0] == 0:
        raise TemplateError(f"embeddings must be a non-empty list of {EMBEDDING_DIM}-value rows, got shape {e.shape}")
    norms = np.linalg.norm(e, axis=1)
    bad = np.flatnonzero(~np.isfinite(norms) | (norms == 0))
    if len(bad):
        raise TemplateError(f"embedding {int(bad[0])} is zero or not finite")
    return e / norms[:, None]


def embed_photos(images: list[np.ndarray]) -> np.ndarray:
    """One embedding per photo; TemplateError naming the first photo without exactly one face."""
    models = face_models()
    rows = []
    for i, image in enumerate(images):
        reading = models.read(image, liveness=False)
        if reading.faces != 1:
            raise TemplateError(f"photo {i}: {'no face found' if reading.faces == 0 else f'{reading.faces} faces found'}"
                                ", expected exactly one")
        rows.append(reading.embedding)
    return np.stack(rows)


def template_rows(conn: sa.Connection, employee_id: str) -> list:
    return conn.execute(sa.select(employee_templates).where(employee_templates.c.employee_id == employee_id)
                        .order_by(employee_templates.c.template_no)).all()


def remove_templates(conn: sa.Connection, employee_id: str, *, actor: str) -> int:
    """Remove all of an employee's templates (re-enrolment, or the employee left); returns how many."""
    gone = conn.execute(sa.delete(employee_templates).where(employee_templates.c.employee_id == employee_id))
    write_audit(conn, actor, "templates.delete", employee_id, f"{gone.rowcount} templates")
    return gone.rowcount


def enrol_embeddings(conn: sa.Connection, employee_id: str, embeddings: np.ndarray | list, key_path: Path, *,
                     actor: str, model_version: str = MODEL_VERSION) -> list[int]:
    """Store the embeddings as the employee's next templates, encrypted; returns their template numbers."""
    e = check_embeddings(embeddings)
    have = template_rows(conn, employee_id)
    if len(have) + len(e) > MAX_TEMPLATES:
        raise TemplateError(f"employee {employee_id} has {len(have)} templates; {len(e)} more would pass the "
                            f"limit of {MAX_TEMPLATES}")
    key = load_template_key(key_path, create=True)
    first = 1 + max((r.template_no for r in have), default=0)
    now = utc_iso(time.time())
    numbers = list(range(first, first + len(e)))
    conn.execute(sa.insert(employee_templates), [
        {"employee_id": employee_id, "template_no": n, "model_version": model_version,
         "ciphertext": encrypt_template(key, employee_id, n, model_version, row), "created_at": now}
        for n, row in zip(numbers, e, strict=True)])
    write_audit(conn, actor, "templates.enrol", employee_id, f"templates {numbers} model={model_version}")
    return numbers


def enrol_photos(conn: sa.Connection, employee_id: str, images: list[np.ndarray], key_path: Path, *,
                 actor: str) -> list[int]:
    """Detect, align and embed each photo (exactly one face each), then store the templates encrypted. A
    TemplateError names the request field the photos came in (photos_b64)."""
    try:
        return enrol_embeddings(conn, employee_id, embed_photos(images), key_path, actor=actor)
    except TemplateError as e:
        raise TemplateError(f"photos_b64: {e}") from e


def load_templates(conn: sa.Connection, employee_id: str, key_path: Path,
                   model_version: str = MODEL_VERSION) -> np.ndarray:
    """The employee's templates of this model version, decrypted: (n, 128) float32 (n may be 0)."""
    rows = [r for r in template_rows(conn, employee_id) if r.model_version == model_version]
    if not rows:
        return np.zeros((0, EMBEDDING_DIM), np.float32)
    key = load_template_key(key_path, create=False)
    return np.stack([decrypt_template(key, employee_id, r.template_no, r.model_version, bytes(r.ciphertext))
                     for r in rows])


# -- 1:1 selfie verification ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SelfieCheck:
    """The verdict on a check-in selfie: flags and status for the check-in, numbers for checkin_selfies."""

    faces: int
    templates: int
    match_score: float | None
    liveness_score: float | None
    flags: list[str]
    status: str


def verify_selfie(conn: sa.Connection, employee_id: str, image: np.ndarray, key_path: Path) -> SelfieCheck:
    """Face count, passive liveness, and the best cosine score against the employee's templates at the
    shipped threshold. Nothing about the image is kept beyond these numbers."""
    models = face_models()
    reading = models.read(image)
    templates = load_templates(conn, employee_id, key_path)
    flags: list[str] = []
    if reading.faces != 1:
        flags.append("selfie_no_face" if reading.faces == 0 else "selfie_many_faces")
    if len(templates) == 0:
        flags.append("no_templates")
    score = None
    if reading.embedding is not None and len(templates):
        score = float(np.max(templates @ reading.embedding))
        if score < match_threshold():
            flags.append("selfie_mismatch")
    spoof = reading.liveness is not None and reading.liveness < models.fusion.threshold
    if spoof:
        flags.append("selfie_spoof")
    status = ("no_face" if reading.faces == 0 else "many_faces" if reading.faces > 1
              else "mismatch" if "selfie_mismatch" in flags else "spoof" if spoof
              else "no_templates" if score is None else "verified")
    return SelfieCheck(reading.faces, len(templates), None if score is None else round(score, 4),
                       None if reading.liveness is None else round(reading.liveness, 4), flags, status)
