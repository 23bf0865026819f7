"""The fitted map from BlazeFace's 6 keypoints to the 5 points SFace alignment expects (blazeface_landmarks.json).

BlazeFace marks eye centres, the nose tip and the mouth centre; YuNet (whose points SFace's alignment template
was made for) marks slightly different spots and the two mouth corners. Both point sets are expressed in a frame
fixed by BlazeFace's eyes (origin between them, unit = eye distance, x along the eye line), where a ridge
regression (fitted by `python -m model_lab.blazeface_fit`) predicts YuNet's 10 coordinates.
"""

from pathlib import Path

import numpy as np

FIT_FILE = Path(__file__).with_name("blazeface_landmarks.json")


def eye_frame(keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(origin, 2x2 basis rows u, v scaled by 1/eye distance) from BlazeFace keypoints (image-left eye first)."""
    right_eye, left_eye = keypoints[0], keypoints[1]
    axis = left_eye - right_eye
    d2 = float(axis @ axis)
    if d2 <= 0:
        d2 = 1.0
    u = axis / d2  # x = (p - o) . u  is in eye distances
    v = np.array([-axis[1], axis[0]]) / d2
    return (right_eye + left_eye) / 2.0, np.stack([u, v])


def features(keypoints: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Nose, mouth, ears and box corners in the eye frame, plus a constant: the regression's input row."""
    origin, basis = eye_frame(keypoints)
    x, y, w, h = box
    corners = np.array([[x, y], [x + w, y + h]])
    pts = np.concatenate([keypoints[2:6], corners]) - origin
    return np.concatenate([(pts @ basis.T).reshape(-1), [1.0]])


def apply_fit(weights: np.ndarray, keypoints: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """The 5 YuNet-style points (image pixels) predicted from BlazeFace keypoints (image-left eye first)."""
    origin, basis = eye_frame(keypoints)
    local = (features(keypoints, box) @ weights).reshape(5, 2)
    # Invert the frame: basis rows are u/|a|^2-scaled, so p = o + local @ inv(basis).T
    return (origin + local @ np.linalg.inv(basis).T).astype(np.float32)
