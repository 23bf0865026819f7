"""LiteRT (TFLite) runtime: load a registered model; Face Mesh on a face region; SFace embeddings from TFLite."""

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge_models.alignment import ALIGNED_SIZE, align_crop
from edge_models.opencv_runtime import BadFrame, Face, check_frame, normalise
from edge_models.registry import MODELS, ModelError, model_path, verify_model_file

# Goes into every record made with the TFLite recogniser. The embeddings match the OpenCV path's (cosine
# >= 0.99, tests/edge_models/test_tflite_sface.py), so the shipped threshold and galleries carry over.
SFACE_TFLITE_VERSION = "sface-2021dec-fp32-tflite"

MESH_SIZE = 192  # Face Mesh input: 1x192x192x3 RGB float in [0, 1]
MESH_POINTS = 468
# MediaPipe widens a detector box by 1.5 before landmarking: the mesh was trained on that framing.
ROI_SCALE = 1.5


def _interpreter_class() -> type:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError as e:
            raise ModelError("no LiteRT runtime: pip install ai-edge-litert (or tflite-runtime)") from e
    return Interpreter


def load_interpreter(name: str, model_file: Path | None = None, threads: int = 1) -> object:
    """An allocated interpreter for the registered model `name` (sha256-verified; never downloads)."""
    if name not in MODELS or MODELS[name].runtime != "litert":
        raise ModelError(f"{name!r} is not a registered LiteRT model")
    path = model_path(name) if model_file is None else verify_model_file(MODELS[name], Path(model_file))
    interpreter = _interpreter_class()(model_path=str(path), num_threads=threads)
    interpreter.allocate_tensors()
    return interpreter


@dataclass(frozen=True)
class Mesh:
    """468 Face Mesh landmarks (x, y in frame pixels; z relative depth in the same pixel scale) + face score."""

    points: np.ndarray  # 468x3 float32
    score: float


def roi_transform(box: tuple[float, float, float, float], eyes: np.ndarray | None) -> np.ndarray:
    """2x3 affine from the frame to the 192x192 mesh input: a square 1.5x the box, rotated so the eyes are level."""
    x, y, w, h = box
    cx, cy = x + w / 2.0, y + h / 2.0
    side = max(w, h) * ROI_SCALE
    angle = 0.0
    if eyes is not None:
        # YuNet order: right eye (image left) then left eye; roll the crop so the line between them is level.
        (rx, ry), (lx, ly) = eyes[0], eyes[1]
        angle = float(np.degrees(np.arctan2(ly - ry, lx - rx)))
    scale = MESH_SIZE / max(side, 1.0)
    m = cv2.getRotationMatrix2D((cx, cy), angle, scale)
    m[0, 2] += MESH_SIZE / 2.0 - cx
    m[1, 2] += MESH_SIZE / 2.0 - cy
    return m


class FaceMesh:
    """MediaPipe Face Mesh through LiteRT. Not thread-safe: one per thread."""

    def __init__(self, model_file: Path | None = None, threads: int = 1) -> None:
        self._it = load_interpreter("face_mesh", model_file, threads)
        inp = self._it.get_input_details()[0]
        if tuple(inp["shape"]) != (1, MESH_SIZE, MESH_SIZE, 3):
            raise ModelError(f"face_mesh input is {tuple(inp['shape'])}, expected (1, 192, 192, 3)")
        self._in = inp["index"]
        outs = sorted(self._it.get_output_details(), key=lambda d: -int(np.prod(d["shape"])))
        self._points, self._flag = outs[0]["index"], outs[1]["index"]

    def landmarks(self, image: np.ndarray, box: tuple[float, float, float, float],
                  eyes: np.ndarray | None = None) -> Mesh:
        """Landmarks of the face in `box` of a BGR frame, in frame coordinates."""
        m = roi_transform(box, eyes)
        crop = cv2.warpAffine(image, m, (MESH_SIZE, MESH_SIZE), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT)
        tensor = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB).astype(np.float32)[np.newaxis] / 255.0
        self._it.set_tensor(self._in, tensor)
        self._it.invoke()
        raw = self._it.get_tensor(self._points).reshape(-1)[: MESH_POINTS * 3].reshape(MESH_POINTS, 3)
        score = float(1.0 / (1.0 + np.exp(-float(self._it.get_tensor(self._flag).reshape(-1)[-1]))))
        inv = cv2.invertAffineTransform(m)
        xy = raw[:, :2] @ inv[:, :2].T + inv[:, 2]
        z = raw[:, 2:3] * float(np.sqrt(abs(np.linalg.det(inv[:, :2]))))
        return Mesh(np.hstack([xy, z]).astype(np.float32), score)


class Embedder:
    """SFace through LiteRT (the float32 file model_lab.convert_sface makes): the same interface, alignment and
    input as opencv_runtime.Embedder, about twice as fast on x86. Not thread-safe: one per thread."""

    def __init__(self, model_file: Path | None = None, threads: int = 1) -> None:
        self._it = load_interpreter("sface_tflite", model_file, threads)
        inp = self._it.get_input_details()[0]
        if tuple(inp["shape"]) != (1, ALIGNED_SIZE, ALIGNED_SIZE, 3):
            raise ModelError(f"sface_tflite input is {tuple(inp['shape'])}, expected (1, 112, 112, 3)")
        self._in = inp["index"]
        self._out = self._it.get_output_details()[0]["index"]

    def align(self, image: np.ndarray, face: Face) -> np.ndarray:
        """The 112x112 BGR crop SFace was trained on (the transform cv2.FaceRecognizerSF.alignCrop uses)."""
        return align_crop(check_frame(image), face.landmarks)

    def embed(self, aligned: np.ndarray) -> np.ndarray:
        aligned = check_frame(aligned)
        if aligned.shape[:2] != (ALIGNED_SIZE, ALIGNED_SIZE):
            raise BadFrame(f"aligned face must be 112x112, got {aligned.shape[:2]}")
        # cv2.FaceRecognizerSF feeds blobFromImage(crop, 1, (112, 112), 0, swapRB=True): raw RGB pixel values;
        # the (x - 127.5) / 128 normalisation is inside the model.
        tensor = cv2.cvtColor(aligned, cv2.COLOR_BGR2RGB).astype(np.float32)[np.newaxis]
        self._it.set_tensor(self._in, tensor)
        self._it.invoke()
        return normalise(self._it.get_tensor(self._out).reshape(-1))

    def embed_face(self, image: np.ndarray, face: Face) -> np.ndarray:
        return self.embed(self.align(image, face))
