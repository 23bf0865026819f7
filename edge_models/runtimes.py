"""Detector and recogniser by name: the one place the kiosk, the evaluation CLI and the benchmarks pick runtimes.

Detectors: "yunet" (OpenCV, int8) and "blazeface" (MediaPipe full range, LiteRT) or "blazeface_short".
Recogniser runtimes: "opencv" (SFace int8 ONNX through cv2.dnn) and "litert" (the same SFace dequantised to
float32 TFLite by model_lab.convert_sface). Both recognisers give the same embeddings (cosine >= 0.99), so
galleries and the shipped threshold are shared; the model version in each record still names what ran.
"""

from edge_models.opencv_runtime import MODEL_VERSION

DETECTORS = ("yunet", "blazeface", "blazeface_short")
RECOGNISER_RUNTIMES = ("opencv", "litert")
# The embedding space galleries and thresholds belong to: the same for both recogniser runtimes.
EMBEDDING_SPACE = MODEL_VERSION
_DETECTOR_VERSIONS = {"yunet": "yunet-2023mar-int8bq", "blazeface": "blazeface-full-range",
                      "blazeface_short": "blazeface-short-range"}
_RECOGNISER_VERSIONS = {"opencv": "sface-2021dec-int8bq", "litert": "sface-2021dec-fp32-tflite"}


class RuntimeChoiceError(ValueError):
    """An unknown detector or recogniser runtime name."""


def _check(name: str, known: tuple[str, ...], what: str) -> None:
    if name not in known:
        raise RuntimeChoiceError(f"unknown {what} {name!r}; have {', '.join(known)}")


def make_detector(name: str, score_threshold: float | None = None):
    """A detector with `detect(bgr) -> list[Face]`; `score_threshold` None keeps the detector's own default."""
    _check(name, DETECTORS, "detector")
    kwargs = {} if score_threshold is None else {"score_threshold": score_threshold}
    if name == "yunet":
        from edge_models.opencv_runtime import Detector

        return Detector(**kwargs)
    from edge_models.blazeface import Detector as BlazeFace

    return BlazeFace(variant="short" if name == "blazeface_short" else "full", **kwargs)


def make_embedder(runtime: str):
    """An SFace embedder with `align`, `embed` and `embed_face`, on the named runtime."""
    _check(runtime, RECOGNISER_RUNTIMES, "recogniser runtime")
    if runtime == "opencv":
        from edge_models.opencv_runtime import Embedder

        return Embedder()
    from edge_models.litert_runtime import Embedder as LiteRTEmbedder

    return LiteRTEmbedder()


def model_version(detector: str, runtime: str) -> str:
    """What a record says produced its match score; YuNet + OpenCV SFace keeps the historic MODEL_VERSION."""
    _check(detector, DETECTORS, "detector")
    _check(runtime, RECOGNISER_RUNTIMES, "recogniser runtime")
    return f"{_DETECTOR_VERSIONS[detector]}+{_RECOGNISER_VERSIONS[runtime]}"


def _recogniser_family(version: str) -> str | None:
    recogniser = version.split("+")[-1]
    return "sface-2021dec" if recogniser.startswith("sface-2021dec") else None


def shares_embeddings(version: str, other: str) -> bool:
    """Whether templates and thresholds of one model version hold for the other (same recogniser weights,
    whichever runtime or detector ran it)."""
    family = _recogniser_family(version)
    return family is not None and family == _recogniser_family(other)


def names_of(detector: object, embedder: object) -> tuple[str, str]:
    """(detector name, recogniser runtime) of live objects, e.g. ones a test or caller passed in."""
    from edge_models.blazeface import Detector as BlazeFace
    from edge_models.litert_runtime import Embedder as LiteRTEmbedder

    if isinstance(detector, BlazeFace):
        det = "blazeface_short" if detector.variant.size == 128 else "blazeface"
    else:
        det = "yunet"
    return det, "litert" if isinstance(embedder, LiteRTEmbedder) else "opencv"


def version_of(detector: object, embedder: object) -> str:
    """The model version a record should carry for these live detector and embedder objects."""
    return model_version(*names_of(detector, embedder))
