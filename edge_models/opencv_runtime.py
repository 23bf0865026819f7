"""OpenCV face runtime: YuNet detection and SFace embeddings, with frame checks that say what was wrong."""

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge_models.registry import MODELS, model_path, verify_model_file

# Goes into every record: a record says which detector + recogniser produced its match score.
MODEL_VERSION = "yunet-2023mar-int8bq+sface-2021dec-int8bq"
EMBEDDING_DIM = 128


class BadFrame(ValueError):
    """An image the pipeline cannot use (undecodable, empty, wrong type or shape); skipped and counted."""


@dataclass(frozen=True)
class Face:
    """One detected face: box (x, y, w, h) in image pixels, 5 landmarks, detector score."""

    box: tuple[float, float, float, float]
    # 5x2, YuNet order: right eye, left eye, nose tip, right and left mouth corners (as seen in the image).
    landmarks: np.ndarray
    score: float

    @property
    def size(self) -> float:
        return float(min(self.box[2], self.box[3]))

    def as_row(self) -> np.ndarray:
        """The 15-float YuNet row that FaceRecognizerSF.alignCrop expects."""
        return np.concatenate([np.asarray(self.box, np.float32), self.landmarks.reshape(-1).astype(np.float32),
                               np.array([self.score], np.float32)])


def check_frame(image: object) -> np.ndarray:
    """A BGR uint8 HxWx3 array, or BadFrame naming what was wrong. Grey and BGRA images are converted."""
    if image is None:
        raise BadFrame("no image (None): the frame could not be read or decoded")
    if not isinstance(image, np.ndarray):
        raise BadFrame(f"not an image array but {type(image).__name__}")
    if image.dtype != np.uint8:
        raise BadFrame(f"image dtype is {image.dtype}, expected uint8")
    if image.size == 0 or image.ndim < 2 or min(image.shape[:2]) < 2:
        raise BadFrame(f"empty image (shape {image.shape})")
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim == 3 and image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim != 3 or image.shape[2] != 3:
        raise BadFrame(f"image shape {image.shape} is not HxWx3 (BGR)")
    return np.ascontiguousarray(image)


def decode_image(data: bytes) -> np.ndarray:
    """Decode JPEG/PNG/... bytes to BGR, or BadFrame."""
    if not data:
        raise BadFrame("empty image bytes")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise BadFrame(f"cannot decode {len(data)} bytes as an image")
    return check_frame(image)


def read_image(path: Path | str) -> np.ndarray:
    """Read an image file to BGR, or BadFrame saying why (missing, unreadable, not an image)."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise BadFrame(f"{path}: cannot read: {e.strerror or e}") from e
    try:
        return decode_image(data)
    except BadFrame as e:
        raise BadFrame(f"{path}: {e}") from e


def _registered(name: str, model_file: Path | None) -> str:
    # An explicit file (tests, a Pi image with its own layout) is held to the same sha256 as the packaged one.
    path = model_path(name) if model_file is None else verify_model_file(MODELS[name], Path(model_file))
    return str(path)


class Detector:
    """YuNet face detector. Not thread-safe: one per thread."""

    def __init__(self, score_threshold: float = 0.8, nms_threshold: float = 0.3, top_k: int = 50,
                 max_side: int = 1280, model_file: Path | None = None) -> None:
        self.score_threshold = score_threshold
        # Big photos are detected on a downscaled copy: YuNet's cost grows with pixels, faces stay findable.
        self.max_side = max_side
        self._size = (320, 320)
        self._net = cv2.FaceDetectorYN.create(_registered("yunet", model_file), "", self._size,
                                              score_threshold, nms_threshold, top_k)

    def detect(self, image: np.ndarray) -> list[Face]:
        """Faces in a BGR image, highest score first."""
        image = check_frame(image)
        h, w = image.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        if scale < 1.0:
            image = cv2.resize(image, (max(2, round(w * scale)), max(2, round(h * scale))),
                               interpolation=cv2.INTER_AREA)
            h, w = image.shape[:2]
        if (w, h) != self._size:
            self._net.setInputSize((w, h))
            self._size = (w, h)
        _, rows = self._net.detect(image)
        if rows is None:
            return []
        faces = []
        for row in rows:
            r = row[:15].astype(np.float64) / scale
            faces.append(Face(box=(float(r[0]), float(r[1]), float(r[2]), float(r[3])),
                              landmarks=r[4:14].reshape(5, 2).astype(np.float32), score=float(row[14])))
        faces.sort(key=lambda f: f.score, reverse=True)
        return faces


class Embedder:
    """SFace recogniser: aligned 112x112 crop -> 128-d L2-normalised float32 embedding. One per thread."""

    def __init__(self, model_file: Path | None = None) -> None:
        self._net = cv2.FaceRecognizerSF.create(_registered("sface", model_file), "")

    def align(self, image: np.ndarray, face: Face) -> np.ndarray:
        """The 112x112 BGR crop SFace was trained on (similarity transform on the 5 landmarks)."""
        return self._net.alignCrop(check_frame(image), face.as_row())

    def embed(self, aligned: np.ndarray) -> np.ndarray:
        aligned = check_frame(aligned)
        if aligned.shape[:2] != (112, 112):
            raise BadFrame(f"aligned face must be 112x112, got {aligned.shape[:2]}")
        feature = np.asarray(self._net.feature(aligned), np.float32).reshape(-1)
        return normalise(feature)

    def embed_face(self, image: np.ndarray, face: Face) -> np.ndarray:
        return self.embed(self.align(image, face))


def normalise(v: np.ndarray) -> np.ndarray:
    """L2-normalised float32 copy (a zero vector stays zero: it then matches nothing)."""
    v = np.asarray(v, np.float32)
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v.copy()
