"""One embedding per photo (cached for the run), with the runtime chosen by name and every failure counted."""

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from edge_models import runtimes
from edge_models.opencv_runtime import BadFrame, Detector, Embedder, Face, read_image
from model_lab.evaluation.flip import embed_with_flip

# Name -> factory (edge_models/runtimes.py): each becomes a --detector / --runtime choice.
DETECTORS: dict[str, Callable[[float], Detector]] = {
    name: (lambda score, name=name: runtimes.make_detector(name, score)) for name in runtimes.DETECTORS}
RUNTIMES: dict[str, Callable[[], Embedder]] = {
    name: (lambda name=name: runtimes.make_embedder(name)) for name in runtimes.RECOGNISER_RUNTIMES}
MODEL_VERSIONS = {(d, r): runtimes.model_version(d, r) for d in runtimes.DETECTORS
                  for r in runtimes.RECOGNISER_RUNTIMES}


class EvalError(RuntimeError):
    """An evaluation that cannot run as asked (bad data root, missing photos, unknown runtime)."""


def central_face(faces: list[Face], width: int, height: int) -> Face | None:
    """The face nearest the image centre (LFW photos are centred on their subject), or None."""
    if not faces:
        return None
    cx, cy = width / 2, height / 2
    return min(faces, key=lambda f: (f.box[0] + f.box[2] / 2 - cx) ** 2 + (f.box[1] + f.box[3] / 2 - cy) ** 2)


def pick_face(faces: list[Face], image: np.ndarray, pick: str) -> Face | None:
    """`central`: the face nearest the centre (LFW photos are centred on their subject); else the largest."""
    if pick == "central":
        return central_face(faces, image.shape[1], image.shape[0])
    return max(faces, key=lambda f: f.size, default=None)


class PhotoEmbeddings:
    """Embeds each photo under `root` once per run; None for a photo with no face or that cannot be read."""

    def __init__(self, root: Path, detector: str = "yunet", runtime: str = "opencv", pick: str = "central",
                 flip: bool = False, detect_score: float = 0.6) -> None:
        if detector not in DETECTORS or runtime not in RUNTIMES:
            raise EvalError(f"unknown detector/runtime {detector}/{runtime}; have detectors "
                            f"{sorted(DETECTORS)}, runtimes {sorted(RUNTIMES)}")
        self.root = Path(root)
        self.detector = DETECTORS[detector](detect_score)
        self.embedder = RUNTIMES[runtime]()
        self.model_version = MODEL_VERSIONS.get((detector, runtime), f"{detector}+{runtime}")
        self.pick, self.flip = pick, flip
        self.cache: dict[str, np.ndarray | None] = {}
        self.no_face: list[str] = []
        self.unreadable: list[tuple[str, str]] = []
        # detect + align + embed per photo (disk read and JPEG decode excluded)
        self.ms_by_photo: dict[str, float] = {}

    def check_exist(self, rels: list[str]) -> None:
        """EvalError listing photos that are not there at all (most often a wrong --root)."""
        missing = [rel for rel in dict.fromkeys(rels) if not (self.root / rel).is_file()]
        if missing:
            raise EvalError(f"{len(missing)} of {len(set(rels))} photos are missing under {self.root} "
                            f"(wrong --root?), e.g. {missing[:3]}")

    def get(self, rel: str) -> np.ndarray | None:
        if rel not in self.cache:
            self.cache[rel] = self._embed(rel)
        return self.cache[rel]

    def _embed(self, rel: str) -> np.ndarray | None:
        try:
            image = read_image(self.root / rel)
        except BadFrame as e:
            self.unreadable.append((rel, str(e)))
            return None
        start = time.perf_counter()
        face = pick_face(self.detector.detect(image), image, self.pick)
        embedding = None
        if face is None:
            self.no_face.append(rel)
        else:
            embedding = (embed_with_flip(self.embedder, image, face) if self.flip
                         else self.embedder.embed_face(image, face))
        self.ms_by_photo[rel] = (time.perf_counter() - start) * 1000
        return embedding

    @property
    def failed(self) -> int:
        """Photos without an embedding: no face found, or undecodable."""
        return len(self.no_face) + len(self.unreadable)

    def ms_per_image(self) -> float:
        return float(np.mean(list(self.ms_by_photo.values()))) if self.ms_by_photo else 0.0
