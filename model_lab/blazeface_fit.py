"""Fit the map from BlazeFace's 6 keypoints to the 5 points SFace alignment expects, from YuNet on real photos.

    python -m model_lab.blazeface_fit ../shared/data/faces/celeba_dev  # rewrites edge_models/blazeface_landmarks.json

For every photo where both detectors find the same face, both point sets are expressed in BlazeFace's eye
frame (edge_models/blazeface_landmarks.py), and a ridge regression predicts YuNet's 10 coordinates from
BlazeFace's nose, mouth, ears and box. Fitted on CelebA; LFW (where the threshold was calibrated and accuracy
is reported) is never used.
"""

import json
import sys
from datetime import date
from pathlib import Path

import numpy as np

from edge_models.blazeface import MOUTH_TO_EYES, Detector, iou_one_to_many, ordered_keypoints
from edge_models.blazeface_landmarks import FIT_FILE, eye_frame, features
from edge_models.opencv_runtime import BadFrame, read_image
from edge_models.opencv_runtime import Detector as YuNet
from model_lab.evaluation.labelled import load_identities

RIDGE = 1e-3
MIN_IOU = 0.3


def collect(root: Path, variant: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(feature rows, YuNet targets in the eye frame, photos used) over every photo of a labelled set."""
    yunet, blaze = YuNet(score_threshold=0.6), Detector(variant=variant, landmark_fit=None)
    xs, ys = [], []
    for rels in load_identities(root).values():
        for rel in rels:
            try:
                image = read_image(root / rel)
            except BadFrame:
                continue
            ours, theirs = yunet.detect(image), blaze.detect_raw(image)
            if not ours or not theirs:
                continue
            face = max(ours, key=lambda f: f.size)
            x, y, w, h = face.box
            overlap = iou_one_to_many(np.array([x, y, x + w, y + h]), np.stack([t[0] for t in theirs]))
            if overlap.max() < MIN_IOU:
                continue
            corners, keypoints, _ = theirs[int(np.argmax(overlap))]
            keypoints = ordered_keypoints(keypoints)
            box = (corners[0], corners[1], corners[2] - corners[0], corners[3] - corners[1])
            origin, basis = eye_frame(keypoints)
            xs.append(features(keypoints, box))
            ys.append(((face.landmarks - origin) @ basis.T).reshape(-1))
    return np.array(xs), np.array(ys), len(xs)


def fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Ridge regression weights (features x 10); the constant column is not shrunk."""
    penalty = RIDGE * len(x) * np.eye(x.shape[1])
    penalty[-1, -1] = 0.0
    return np.linalg.solve(x.T @ x + penalty, x.T @ y)


def main(argv: list[str]) -> None:
    root = Path(argv[0])
    out = {"how": "ridge regression from BlazeFace keypoints to YuNet's 5 points in the eye frame; "
                  f"reproduce: python -m model_lab.blazeface_fit ../shared/data/faces/{root.name}",
           "dataset": f"{root.name}/labels.csv (every photo, largest YuNet face, IoU >= {MIN_IOU})",
           "fitted_on": date.today().isoformat(), "ridge": RIDGE, "variants": {}}
    for variant in ("full", "short"):
        x, y, n = collect(root, variant)
        weights = fit(x, y)
        before = np.abs(y - _template_guess(x)).mean()
        after = np.abs(y - x @ weights).mean()
        out["variants"][variant] = {"faces": n, "weights": np.round(weights, 6).tolist(),
                                    "mean_abs_error_eye_distances": {"template_guess": round(float(before), 4),
                                                                     "fitted": round(float(after), 4)}}
    FIT_FILE.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps({v: {k: d[k] for k in ("faces", "mean_abs_error_eye_distances")}
                      for v, d in out["variants"].items()}))


def _template_guess(x: np.ndarray) -> np.ndarray:
    """The unfitted guess (eyes as given, nose as given, mouth corners beside the mouth centre), for the record."""
    n = len(x)
    nose, mouth = x[:, 0:2], x[:, 2:4]
    half = np.array([MOUTH_TO_EYES / 2.0, 0.0])
    return np.concatenate([np.tile([-0.5, 0.0], (n, 1)), np.tile([0.5, 0.0], (n, 1)), nose, mouth - half,
                           mouth + half], axis=1)


if __name__ == "__main__":
    main(sys.argv[1:])
