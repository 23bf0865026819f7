"""Shared fixtures for the liveness tests: models, live faces from shared data, replay_a sequences."""

from pathlib import Path

import pytest

from edge_models.opencv_runtime import Detector, Embedder, read_image


@pytest.fixture(scope="session")
def detector() -> Detector:
    return Detector()


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="session")
def lfw_faces(shared_data: Path) -> list:
    """A dozen LFW photos of different people (never used to fit the fusion)."""
    files = sorted((shared_data / "faces" / "lfw_dev").glob("*/*.jpg"))[1::97][:12]
    return [read_image(p) for p in files]


@pytest.fixture(scope="session")
def live_sequence(shared_data: Path) -> list:
    """Eight consecutive replay_a live crops from the held-out half (files >= 90): a real head moving."""
    folder = shared_data / "liveness" / "replay_a" / "live"
    return [read_image(folder / f"{i}.jpg") for i in range(100, 108)]
