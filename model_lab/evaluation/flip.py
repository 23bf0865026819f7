"""Embedding helpers on top of a runtime's Embedder: test-time flip averaging."""

import cv2
import numpy as np

from edge_models.opencv_runtime import Embedder, Face, normalise


def embed_aligned_with_flip(embedder: Embedder, aligned: np.ndarray) -> np.ndarray:
    """Mean of the embeddings of an aligned crop and its mirror image, re-normalised.

    The aligned crop is (nearly) symmetric about its vertical centre line, so mirroring it is the same as
    mirroring the photo and aligning again, at the cost of a second embedding.
    """
    return normalise(embedder.embed(aligned) + embedder.embed(cv2.flip(aligned, 1)))


def embed_with_flip(embedder: Embedder, image: np.ndarray, face: Face) -> np.ndarray:
    """Flip-averaged embedding of one detected face in a BGR image."""
    return embed_aligned_with_flip(embedder, embedder.align(image, face))
