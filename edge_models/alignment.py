"""SFace's 112x112 face alignment without an OpenCV DNN net: the same similarity transform as alignCrop.

cv2.FaceRecognizerSF.alignCrop needs the SFace ONNX loaded into OpenCV (about 120 MB of RSS). The TFLite
recogniser uses this port of its transform instead (OpenCV objdetect/src/face_recognize.cpp,
getSimilarityTransformMatrix: Umeyama's least-squares similarity onto fixed ArcFace points, then
warpAffine with bilinear interpolation); tests check both give the same crop.
"""

import cv2
import numpy as np

ALIGNED_SIZE = 112
# Where the 5 landmarks (right eye, left eye, nose tip, right and left mouth corner as seen) go in the crop.
DST_POINTS = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655],
                       [70.7299, 92.2041]], np.float32)
DST_MEAN = np.array([56.0262, 71.9008], np.float32)  # as OpenCV hard-codes it


def similarity_transform(landmarks: np.ndarray) -> np.ndarray:
    """2x3 similarity (rotation, uniform scale, shift) mapping the 5 landmarks onto DST_POINTS."""
    src = np.asarray(landmarks, np.float32).reshape(5, 2)
    src_mean = src.mean(axis=0, dtype=np.float32)
    src_demean = (src - src_mean).astype(np.float64)
    dst_demean = (DST_POINTS - DST_MEAN).astype(np.float64)
    a = dst_demean.T @ src_demean / 5.0
    d = np.array([1.0, 1.0])
    if np.linalg.det(a) < 0:
        d[1] = -1.0
    u, s, vt = np.linalg.svd(a)
    tol = s.max() * 2 * np.finfo(np.float32).tiny
    rank = int(np.sum(s > tol))
    t = np.eye(2)
    if rank == 1:
        if np.linalg.det(u) * np.linalg.det(vt) > 0:
            t = u @ vt
        else:
            t = u @ np.diag([1.0, -1.0]) @ vt
            d[1] = -1.0  # mirrors OpenCV: the scale below uses the flipped sign
    elif rank == 2:
        t = u @ np.diag(d) @ vt
    var = float(np.sum(src_demean.var(axis=0)))
    scale = float(s @ d) / var if var > 0 else 1.0
    m = np.zeros((2, 3))
    m[:, :2] = t * scale
    m[:, 2] = DST_MEAN.astype(np.float64) - scale * (t @ src_mean.astype(np.float64))
    return m


def align_crop(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The 112x112 BGR crop SFace was trained on, from a BGR image and YuNet-order 5-point landmarks."""
    return cv2.warpAffine(image, similarity_transform(landmarks), (ALIGNED_SIZE, ALIGNED_SIZE),
                          flags=cv2.INTER_LINEAR)
