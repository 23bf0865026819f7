"""The fitted BlazeFace keypoint map: its eye frame inverts exactly."""

import numpy as np

from edge_models.blazeface_landmarks import apply_fit


def test_fitted_map_inverts_its_eye_frame() -> None:
    """Weights that return the eyes and nose they were given must land on the same pixels."""
    kp = np.array([[40.0, 52.0], [78.0, 47.0], [60.0, 70.0], [59.0, 90.0], [20.0, 60.0], [100.0, 55.0]])
    weights = np.zeros((13, 10))
    weights[12, 0:4] = [-0.5, 0.0, 0.5, 0.0]  # eyes: constants in the eye frame
    weights[0, 4] = weights[1, 5] = 1.0  # nose: copied from the nose feature
    weights[2, 6] = weights[3, 7] = weights[2, 8] = weights[3, 9] = 1.0  # both "corners" on the mouth centre
    points = apply_fit(weights, kp, (10.0, 20.0, 100.0, 100.0))
    assert np.allclose(points[:3], kp[:3], atol=1e-4) and np.allclose(points[3:], kp[[3, 3]], atol=1e-4)
